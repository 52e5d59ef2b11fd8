"""The overview's health strip: one line on the deployment's components and import errors.

A component shows a glyph and its name; its heartbeat age shows only when it is late (a fresh
heartbeat is the normal case, and an age ticking every second would write to the terminal all
day). `i` opens the details (every heartbeat, every import error).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from astro_tui.airflow.models import DagImportError, DagWarning, Health
from astro_tui.present.health import health_word
from astro_tui.present.times import duration
from astro_tui.text import clean
from astro_tui.watch.inbox import ComponentStatus, judge_health

#: a heartbeat older than this (at the time of the read) is shown with its age: a busy
#: scheduler's heartbeat is often 10 s old; Airflow calls it unhealthy after 30 s
LATE_HEARTBEAT = 20.0


def component_text(comp: ComponentStatus) -> Text:
    name = clean(comp.name.replace("_", "-"), max_len=30)
    if comp.status is None:
        return Text(f"○ {name} {health_word(None)}", style="dim")
    if not comp.ok:
        text = Text(f"✖ {name} {clean(health_word(comp.status), max_len=20)}", style="bold red")
    else:
        text = Text(f"● {name}", style="green")
    age = comp.heartbeat_age
    if age is not None and age > LATE_HEARTBEAT:
        text.append(f" ♥ {duration(age)} ago", style="yellow" if comp.ok else "red")
    return text


def health_text(health: Health | None, errors: Sequence[DagImportError],
                read_at: datetime | None, warnings: Sequence[DagWarning] = ()) -> Text:
    text = Text()
    if health is None or read_at is None:
        text.append("◌ health: reading…", style="dim")
    else:
        for n, comp in enumerate(judge_health(health, read_at)):
            if n:
                text.append("  ")
            text.append_text(component_text(comp))
    text.append("  ·  ")
    if errors:
        count = len(errors)
        text.append(f"⚠ {count} import error{'' if count == 1 else 's'} (i)",
                    style="bold yellow")
    else:
        text.append("no import errors", style="dim")
    if warnings:
        count = len(warnings)
        text.append(f"  ·  {count} DAG warning{'' if count == 1 else 's'} (i)", style="yellow")
    return text


class HealthStrip(Static):
    DEFAULT_CSS = """
    HealthStrip { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._sig: tuple = ()
        self.plain = ""

    def show(self, health: Health | None, errors: Sequence[DagImportError],
             read_at: datetime | None, warnings: Sequence[DagWarning] = ()) -> None:
        """Repaint only when the words change (idle: no bytes)."""
        text = health_text(health, errors, read_at, warnings)
        sig = (text.plain, tuple(text.spans))
        if sig != self._sig:
            self._sig = sig
            self.plain = text.plain
            self.update(text, layout=False)  # one line, always: repaint it alone
