"""The log pane's words: its title (task, try, end of log), its bottom border (new lines, follow,
level filter, wrap, search) and what it says while empty. Part of the log pane (base.py).

Server text reaching these (task id, an error message) is sanitized, and titles are `Text`:
never parsed as markup.
"""

from __future__ import annotations

from rich.text import Text

from astro_tui.present.labels import task_label
from astro_tui.tui.widgets.log.base import LogBase

LEVEL_LABELS = {3: "≥ warning", 4: "≥ error"}


class LogStatus(LogBase):
    """The log pane's words (title, bottom border, empty-pane text)."""

    @property
    def context(self) -> str:
        f = self.follower
        if f is None:
            return ""
        ctx = task_label(f.task_id, f.map_index)
        if f.try_number:
            latest = max(self.latest_try, f.try_number)
            ctx += f" · try {f.try_number}" + (f"/{latest}" if latest > 1 else "")
        if f.finished:
            ctx += " · end of log"
        elif self.follow and f.ti is not None and f.ti.state is not None:
            ctx += " · following" if f.ti.state == "running" else f" · {f.ti.state}"
        return ctx

    def placeholder(self) -> str:
        """What the empty pane says (loading, waiting for the task, an error...)."""
        f = self.follower
        if f is None:
            return "select a task to see its log" if self.connected else ""
        if self.error:
            return f"(log not available: {self.error})"
        if len(self.store):
            return "(no line at this level: press l to show all)" if self.store.level_min else ""
        if self.waiting or f.ti is None:
            return "loading…"
        state = f.ti.state
        if state in (None, "scheduled", "queued"):
            return f"waiting for the task to start ({state or 'no state yet'})"
        return "(the log is empty)" if f.finished else "waiting for log lines…"

    @property
    def status(self) -> Text:
        """What the pane's bottom border says (new lines, follow, filter, wrap, search)."""
        return self._subtitle or Text()

    def _retitle(self) -> None:
        pane = self.pane
        if pane is None:
            return
        pane.set_context(self.context)
        parts: list[tuple[str, str]] = []
        if self.new_lines:
            n = self.new_lines
            parts.append((f"{n} new line{'' if n == 1 else 's'} ↓", "indicator"))
        if self.error and len(self.store):
            parts.append(("⚠ " + self.error[:60], "warning"))
        if not self.follow and not self.ended and self.follower is not None:
            parts.append(("follow off (f)", "warning"))
        if self.store.level_min:
            parts.append((LEVEL_LABELS[self.store.level_min], "warning"))
        if self.wrap:
            parts.append(("wrap", ""))
        if self.search_text:
            if self.matches:
                at = f"{self.match_index + 1}/" if self.match_index >= 0 else ""
                parts.append((f"match {at}{len(self.matches)}", ""))
            else:
                parts.append(("no match", "warning"))
        subtitle = Text()
        styles = self._get_styles()
        for index, (label, style) in enumerate(parts):
            if index:
                subtitle.append(" · ")
            subtitle.append(label, style=styles.get(style) or "")
        if subtitle.plain != (self._subtitle.plain if self._subtitle else ""):
            self._subtitle = subtitle
            pane.border_subtitle = subtitle
