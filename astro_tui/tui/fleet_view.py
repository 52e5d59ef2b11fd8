"""The overview's fleet part (issue 17), shown when several deployments are watched.

* The deployments strip: one row per deployment with its name, Airflow version, health (or
  why it cannot be read: down, not allowed, connecting, with the age of its last good answer),
  and its running and recently failed counts. Enter on a row makes it current.
* The other deployments' share of the merged failure inbox: their rows, keyed
  ``@<deployment> <row key>``, with a deployment column.

The current deployment's own health and inbox come from the overview (its subscriptions); the
others' from subscriptions made here, to feeds the fleet keeps polled anyway (no request of
their own). Each deployment's trouble shows on its own row only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.message_pump import MessagePump

from astro_tui.airflow.errors import Forbidden, Unauthorized
from astro_tui.airflow.models import Health
from astro_tui.present.labels import ti_label
from astro_tui.present.times import duration
from astro_tui.text import safe_text
from astro_tui.tui.widgets.keyed_table import Column, KeyedTable
from astro_tui.tui.widgets.pane import Pane
from astro_tui.tui.widgets.rows import INBOX_COLUMNS, awaiting_key, inbox_rows
from astro_tui.watch.events import (
    Connected,
    Event,
    HealthChanged,
    HealthOf,
    InboxChanged,
    InboxOf,
    PollFailed,
)
from astro_tui.watch.feed import Subscription
from astro_tui.watch.fleet import Fleet
from astro_tui.watch.inbox import Inbox

FLEET_COLUMNS = [
    Column("current", " ", 1),
    Column("name", "Deployment", flex=True, min_width=12, cut="middle", grow_priority=1),
    Column("version", "Airflow", 9, priority=2),
    Column("health", "Health", flex=True, min_width=14, grow_priority=2),
    Column("running", "Running", 7, priority=1),
    Column("failed", "Failed", 7),
]
#: the merged inbox: the deployment right after the state
FLEET_INBOX_COLUMNS = [INBOX_COLUMNS[0],
                       Column("deployment", "Deployment", 16, min_width=8, cut="middle"),
                       *INBOX_COLUMNS[1:]]


class MemberEvent(Message):
    """An event of another deployment's Watcher."""

    def __init__(self, name: str, event: Event) -> None:
        super().__init__()
        self.name = name
        self.event = event


def other_key(name: str, key: str) -> str:
    return f"@{name} {key}"


class FleetView:
    """The strip and the other deployments' inbox rows, for the overview of `current`."""

    def __init__(self, fleet: Fleet, current: str) -> None:
        self.fleet = fleet
        self.current = current
        self.table = KeyedTable(FLEET_COLUMNS, fit=True, id="fleet-table")
        self.pane = Pane("Deployments", self.table, id="fleet")
        self.inboxes: dict[str, Inbox] = {}
        self.health: dict[str, Health] = {}
        self.problems: dict[str, BaseException] = {}
        self._subs: list[Subscription] = []
        self._unlisten: list[Callable[[], None]] = []

    @property
    def others(self) -> list[str]:
        return [n for n in self.fleet.names if n != self.current]

    def start(self, target: MessagePump) -> None:
        for name in self.others:
            watcher = self.fleet.watchers[name]

            def post(event: Event, name: str = name) -> None:
                target.post_message(MemberEvent(name, event))

            self._unlisten.append(watcher.listen(post))
            window = watcher.settings.inbox_window_seconds
            self._subs += [watcher.subscribe(HealthOf(), post),
                           watcher.subscribe(InboxOf(window), post)]

    def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        for sub in self._subs:
            sub.close()
        self._subs, self._unlisten = [], []

    def pause(self, paused: bool) -> None:
        for sub in self._subs:
            sub.pause() if paused else sub.resume()

    def got(self, name: str, event: Event) -> str | None:
        """Keep what `event` says of deployment `name`; what to repaint ("inbox", "strip")."""
        if isinstance(event, InboxChanged):
            self.inboxes[name] = event.inbox
            self.problems.pop(name, None)
            return "inbox"
        if isinstance(event, HealthChanged):
            self.health[name] = event.health
            return "strip"
        if isinstance(event, PollFailed):
            self.problems[name] = event.error
            return "strip"
        if isinstance(event, Connected):
            self.problems.pop(name, None)
            return "strip"
        return None

    # -- the strip -----------------------------------------------------------------------------

    def troubled(self) -> bool:
        """Some deployment fails: its row shows its data's age, which moves every second."""
        return bool(self.problems) or self.fleet.watchers[self.current].status().error is not None

    def repaint(self, own_inbox: Inbox | None, own_health: Health | None) -> None:
        self.table.sync(self.strip_rows(own_inbox, own_health))

    def strip_rows(self, own_inbox: Inbox | None,
                   own_health: Health | None) -> list[tuple[str, tuple[Text, ...]]]:
        rows: list[tuple[str, tuple[Text, ...]]] = []
        for name in self.fleet.names:
            mine = name == self.current
            inbox = own_inbox if mine else self.inboxes.get(name)
            health = own_health if mine else self.health.get(name)
            watcher = self.fleet.watchers[name]
            status = watcher.status()
            rows.append((name, (
                Text("▶" if mine else " ", style="bold"),
                safe_text(name, newline=" ", style="bold" if mine else ""),
                safe_text(status.version or "—", newline=" "),
                self._health_cell(name, status.connected, status.error, health),
                Text("—" if inbox is None else str(inbox.active_total),
                     style="" if inbox is None or not inbox.active_total else "cyan"),
                Text("—" if inbox is None else str(inbox.failed_total),
                     style="" if inbox is None or not inbox.failed_total else "bold red"),
            )))
        return rows

    def _health_cell(self, name: str, connected: bool, error: BaseException | None,
                     health: Health | None) -> Text:
        error = error or (self.problems.get(name) if name != self.current else None)
        age, _, _ = self.fleet.watchers[name].age("inbox")
        stale = f", data {duration(age)} old" if age is not None and error is not None else ""
        if isinstance(error, (Unauthorized, Forbidden)):
            return Text(f"✖ not allowed (token? password?){stale}", style="bold red")
        if error is not None:
            return Text(f"✖ down{stale}", style="bold red")
        if not connected:
            return Text("◌ connecting…", style="yellow")
        if health is None:
            return Text("…", style="dim")
        bad = [c for c, h in health.components.items() if h.status not in (None, "healthy")]
        if bad:
            return safe_text("⚠ " + ", ".join(bad) + " unhealthy", style="yellow", newline=" ")
        return Text("✔ healthy", style="green")

    # -- the merged inbox ----------------------------------------------------------------------

    def inbox_rows(self, own: Inbox | None, now: datetime, tz: tzinfo | None
                   ) -> tuple[list[tuple[str, tuple[Any, ...]]],
                              dict[str, tuple[str, str, str, str | None]]]:
        """Every deployment's inbox rows (failed runs newest first across deployments, then
        requests waiting for a person, then running and queued runs), each with its deployment;
        and, for the other deployments' rows, what Enter opens: (deployment, DAG, run, task)."""
        ranked: list[tuple[tuple[int, float], str, tuple[Any, ...]]] = []
        targets: dict[str, tuple[str, str, str, str | None]] = {}
        for name in self.fleet.names:
            inbox = own if name == self.current else self.inboxes.get(name)
            if inbox is None:
                continue
            when = _row_times(inbox)
            cell = safe_text(name, newline=" ", style="bold" if name == self.current else "dim")
            for key, cells in inbox_rows(inbox, now, tz):
                section, stamp = when.get(key, (3, 0.0))
                shown = key if name == self.current else other_key(name, key)
                ranked.append(((section, -stamp), shown, (cells[0], cell, *cells[1:])))
            if name != self.current:
                for failed in inbox.failed:
                    r, ti = failed.run, failed.first_failed
                    targets[other_key(name, f"failed {r.dag_id} {r.run_id}")] = (
                        name, r.dag_id, r.run_id, ti_label(ti) if ti is not None else None)
                for r in inbox.active:
                    targets[other_key(name, f"active {r.dag_id} {r.run_id}")] = (
                        name, r.dag_id, r.run_id, None)
        ranked.sort(key=lambda row: row[0])
        return [(key, cells) for _, key, cells in ranked], targets


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ts(when: datetime | None) -> float:
    return (when - _EPOCH).total_seconds() if when is not None else 0.0


def _row_times(inbox: Inbox) -> dict[str, tuple[int, float]]:
    """Each inbox row's section and time: failed runs by when they ended, requests by when they
    were made (oldest first), running runs by when they started."""
    times: dict[str, tuple[int, float]] = {}
    for failed in inbox.failed:
        r = failed.run
        times[f"failed {r.dag_id} {r.run_id}"] = (0, _ts(r.end_date or r.start_date))
    for h in inbox.awaiting:
        times[awaiting_key(h)] = (1, -_ts(h.created_at))
    for r in inbox.active:
        times[f"active {r.dag_id} {r.run_id}"] = (2, _ts(r.start_date or r.queued_at))
    return times
