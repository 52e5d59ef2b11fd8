"""The log pane as the user meets it: a try's log read by the Watcher, followed live, with
folding, level filter, search and wrap (see base.py for the parts).

Each read's new lines are decoded and formatted in a worker thread (the sink given to
`Watcher.follow_log`), and a big read is handed over in 20k-line batches as they are ready: the
UI never freezes, and the first screen shows up while the rest is still being formatted. Search
uses the pane's input (`/`): matches are highlighted, `n`/`N` go to the next/previous one, Enter
keeps the search, Esc clears it.
"""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from pathlib import Path
from typing import Any

from textual import on

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import ApiError
from astro_tui.airflow.logs import LogFollower, ui_log_url
from astro_tui.airflow.models import TaskInstance
from astro_tui.present.labels import task_label
from astro_tui.text import clean
from astro_tui.tui.actions import bindings
from astro_tui.tui.links import copy_link
from astro_tui.tui.messages import LogUpdated, WatchFailed, poster
from astro_tui.tui.screens.save_log import (
    SaveLogScreen,
    default_log_dir,
    default_log_name,
    resolve_save_path,
)
from astro_tui.tui.widgets.log.keys import LogKeys
from astro_tui.tui.widgets.log.store import HEADER, LineFormatter
from astro_tui.watch.events import LogOf
from astro_tui.watch.watcher import LogSubscription, Watcher

SEARCH_PLACEHOLDER = "search the log (Enter keeps it, Esc clears; n/N next/previous)"


class LogView(LogKeys):
    """The log of one task try: `show(ti)` subscribes to it; polling stops by itself at the
    end of the log, and while the pane is hidden (`set_visible`) or following is off (`f`)."""

    BINDINGS = bindings("log")

    def __init__(self, watcher: Watcher, max_lines: int = 1_000_000, *,
                 tz: tzinfo | None = None, **kwargs: Any) -> None:
        super().__init__(max_lines, **kwargs)
        self.watcher = watcher
        self.formatter = LineFormatter(tz)
        self.sub: LogSubscription | None = None  # the log being read (the Watcher reads it)
        self.visible = True
        self.debounce = 0.25

    def on_mount(self) -> None:
        search = self.search_input
        if search is not None:
            search.placeholder = SEARCH_PLACEHOLDER
            self.watch(search, "value", self._search_changed, init=False)

    @property
    def connected(self) -> bool:
        return self.watcher.client is not None

    @property
    def client(self) -> AirflowClient | None:
        return self.watcher.client

    @property
    def follower(self) -> LogFollower | None:
        """What reads the shown try (its try number, mode and counters)."""
        return self.sub.follower if self.sub is not None else None

    def set_visible(self, visible: bool) -> None:
        """A hidden log pane does not poll."""
        self.visible = visible
        if self.sub is not None:
            if visible and self.follow:
                self.sub.resume()
            else:
                self.sub.pause()

    def refresh_now(self) -> None:
        if self.sub is not None and self.visible and self.follow and not self.ended:
            self.sub.refresh()


    # -- following -----------------------------------------------------------------------------

    def show(self, ti: TaskInstance | None, try_number: int | None = None) -> None:
        """Follow the latest try of `ti` (or `try_number`); None: show nothing."""
        self.ti = ti
        if self.sub is not None:
            self.sub.close()
            self.sub = None
        self._reset()
        if self.watcher.client is None or ti is None:
            self._retitle()
            return
        self.latest_try = max(ti.try_number or 0, try_number or 0)
        topic = LogOf(ti.dag_id, ti.run_id, ti.task_id, ti.map_index,
                      try_number or ti.try_number or None)
        formatter = self.formatter
        self.sub = self.watcher.follow_log(
            topic, poster(self), lambda lines, emit: formatter.chunked(lines, emit),
            delay=self.debounce, raw=True)
        self.set_visible(self.visible)
        self.waiting = True
        self._retitle()

    def following(self, ti: TaskInstance) -> bool:
        """Whether `ti` is shown and no try newer than those known has started (a retry)."""
        f = self.follower
        return (
            f is not None and (f.task_id, f.map_index) == (ti.task_id, ti.map_index)
            and (ti.try_number or 0) <= max(self.latest_try, f.try_number or 0)
        )



    @on(WatchFailed)
    def _failed(self, message: WatchFailed) -> None:
        message.stop()
        if self.sub is None or message.event.topic != self.sub.topic:
            return
        self._loaded()
        err = message.event.error
        text = err.message if isinstance(err, ApiError) else str(err)
        self.error = clean(f"{type(err).__name__}: {text}", 200, newline=" ")
        self._retitle()
        self.refresh()

    @on(LogUpdated)
    def _log_read(self, message: LogUpdated) -> None:
        message.stop()
        event = message.event
        if self.sub is None or self.sub.closed or event.topic != self.sub.topic:
            return
        self._loaded()
        batch = event.data
        if event.partial:
            self.entries += batch.entries
            self._append(batch)
            return
        self.error = None
        if batch is not None:
            self.entries += batch.entries
            if batch.texts or batch.groups:
                self._append(batch)
        if event.ti is not None:
            self.latest_try = max(self.latest_try, event.ti.try_number or 0)
        if event.finished and not self.ended:
            self.ended = True
            self._append(None, note="— end of log —")
        self._retitle()

    # -- following on/off, save and copy -----------------------------------------------------

    def action_toggle_follow(self) -> None:
        sub = self.sub
        if self.follower is None or sub is None or self.ended:
            self.notify("The log has ended: nothing to follow.", markup=False)
            return
        self.follow = not self.follow
        sub.set_following(self.follow)
        if self.follow:
            self.action_bottom()
        self._retitle()

    def _what(self) -> str:
        f = self.follower
        assert f is not None
        task = task_label(f.task_id, f.map_index)
        return f"{f.dag_id} › {task} (try {f.try_number or 1})"

    def action_save(self) -> None:
        f = self.follower
        if f is None:
            return
        name = default_log_name(f.dag_id, f.run_id, f.task_id, f.map_index, f.try_number or 1)
        default = str(default_log_dir() / name)
        what = clean(self._what(), 120, newline=" ")

        def chosen(typed: str | None) -> None:
            if typed:
                self.run_worker(self.save_to(resolve_save_path(typed, name)), group="save-log",
                                exit_on_error=False)

        self.app.push_screen(SaveLogScreen(default, what, name), chosen)

    async def save_to(self, path: Path) -> Path | None:
        """Write the try's whole log (every line, unfolded, unfiltered) to `path`. From memory
        when it holds the whole log; otherwise (over max_lines) read again from the server."""
        f = self.follower
        if f is None:
            return None
        store = self.store
        try:
            if store.dropped == 0:
                lines = [("▾ " + t) if m & HEADER else t for t, m in zip(store.texts, store.meta, strict=True)]
                count = await asyncio.to_thread(_write_lines, path, lines)
            else:
                topic = LogOf(f.dag_id, f.run_id, f.task_id, f.map_index, f.try_number)
                formatter = LineFormatter(self.formatter.tz)

                def sink(entries) -> int:
                    batch = formatter(entries)
                    return _write_lines(path, [("▾ " + t) if m & HEADER else t
                                               for t, m in zip(batch.texts, batch.meta, strict=True)])

                count = await self.watcher.read_log(topic, sink)
        except Exception as exc:  # noqa: BLE001 - a failed save is a message, not a crash
            self.notify(clean(f"Could not save the log to {path}: {exc}", 300, newline=" "),
                        severity="error", markup=False)
            return None
        self.notify(clean(f"Saved {count} lines to {path}", 300, newline=" "), markup=False,
                    title="Log saved")
        return path

    def action_copy_url(self) -> None:
        f, client = self.follower, self.client
        if f is None or client is None:
            return
        url = ui_log_url(client.root_url, client.version.major, f.dag_id, f.run_id, f.task_id,
                         f.map_index, f.try_number)
        copy_link(self, url, "Airflow log URL copied")

def _write_lines(path: Path, lines: list[str]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for start in range(0, len(lines), 10_000):
            out.write("\n".join(lines[start : start + 10_000]))
            out.write("\n")
    return len(lines)
