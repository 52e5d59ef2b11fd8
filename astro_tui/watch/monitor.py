"""Feeds of the deployment's state as a whole: its components, its import errors, and the
failure inbox.

Health and import errors are cheap reads (health: three "latest job" lookups, no auth; import errors: a COUNT and a
page) that go through the same one-request cap as everything else, at slow intervals of their
own (`health_seconds`, `import_errors_seconds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.models import DagImportError, DagRun, DagWarning, Health
from astro_tui.watch.events import (
    HealthChanged,
    HealthOf,
    ImportErrorsChanged,
    ImportErrorsOf,
    InboxChanged,
    InboxOf,
)
from astro_tui.watch.feed import Feed, Fetch
from astro_tui.watch.inbox import Inbox, read_failures


class HealthFeed(Feed):
    kind = "health"
    topic: HealthOf
    background_seconds = 60.0  # (the deployments strip's health word)

    def interval(self) -> float | None:
        return self.hub.settings.health_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return client.health

    def got(self, data: Any) -> None:
        assert isinstance(data, Health)
        # Heartbeats move on every read: always news (the overview shows them when late).
        self.publish(HealthChanged(data, self.hub.now()))


class ImportErrorsFeed(Feed):
    kind = "import_errors"
    topic: ImportErrorsOf

    def interval(self) -> float | None:
        return self.hub.settings.import_errors_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return partial(self._fetch, client)

    async def _fetch(self, client: AirflowClient) -> tuple[list[DagImportError], list[DagWarning]]:
        errors = await client.list_import_errors()
        return errors, await client.list_dag_warnings()

    def got(self, data: Any) -> None:
        errors, warnings = data
        last = self.last
        if isinstance(last, ImportErrorsChanged) and (list(last.errors), list(last.warnings)) \
                == (errors, warnings):
            return  # nothing new: no event, no repaint
        self.publish(ImportErrorsChanged(errors, warnings))


#: seconds between two inbox reads prompted by the changes poll, at least
MIN_REREAD = 10.0


class InboxFeed(Feed):
    """The failure inbox (watch/inbox.py: 2-3 requests per read, whatever the DAG count). Read
    again at once when the changes poll sees a run fail, start, queue or end, else every
    `inbox_seconds` (a failure ages out of the window)."""

    kind = "inbox"
    topic: InboxOf
    background_seconds = 60.0  # (and at once when the changes poll sees a run fail or end)

    def interval(self) -> float | None:
        return self.hub.settings.inbox_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return partial(self._fetch, client)

    async def _fetch(self, client: AirflowClient) -> Inbox:
        since = self.hub.now() - timedelta(seconds=self.topic.window)
        return await read_failures(client, since, self.hub.settings.inbox_limit, awaiting=True)

    def got(self, data: Any) -> None:
        assert isinstance(data, Inbox)
        last = self.last
        if isinstance(last, InboxChanged) and _same_rows(last.inbox, data):
            return  # (the window moved on, nothing else): no event, no repaint
        self.publish(InboxChanged(data))

    def runs_seen(self, by_dag: Mapping[str, Sequence[DagRun]], recovered: bool) -> None:
        age = self.poll.age()
        if age is not None and age < MIN_REREAD:
            return  # (more active runs than rows shown would otherwise re-read it every poll)
        last = self.last
        shown: dict[tuple[str, str], str | None] = {}
        if isinstance(last, InboxChanged):
            shown = {(r.run.dag_id, r.run.run_id): r.run.state for r in last.inbox.failed}
            shown |= {(r.dag_id, r.run_id): r.state for r in last.inbox.active}
        for runs in by_dag.values():
            for run in runs:
                key = (run.dag_id, run.run_id)
                if key in shown and shown[key] == run.state:
                    continue  # as shown (a running run's updated_at moves all the time)
                if key in shown or run.state in ("failed", "running", "queued"):
                    self.poll.poke()  # it changed state, or newly failed or started
                    return


def _same_rows(a: Inbox, b: Inbox) -> bool:
    return (a.failed, a.failed_total, a.active, a.active_total, a.tasks_complete, a.awaiting,
            a.awaiting_total) == (b.failed, b.failed_total, b.active, b.active_total,
                                  b.tasks_complete, b.awaiting, b.awaiting_total)
