"""Feeds of the deployment's own health: its components and its import errors.

Both are cheap reads (health: three "latest job" lookups, no auth; import errors: a COUNT and a
page) that go through the same one-request cap as everything else, at slow intervals of their
own (`health_seconds`, `import_errors_seconds`).
"""

from __future__ import annotations

from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.models import DagImportError, Health
from astro_tui.watch.events import HealthChanged, HealthOf, ImportErrorsChanged, ImportErrorsOf
from astro_tui.watch.feed import Feed, Fetch


class HealthFeed(Feed):
    kind = "health"
    topic: HealthOf

    def interval(self) -> float | None:
        return self.hub.settings.health_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return client.health

    def got(self, data: Any) -> None:
        assert isinstance(data, Health)
        # Heartbeats move on every read: always news (the overview shows their age).
        self.publish(HealthChanged(data))


class ImportErrorsFeed(Feed):
    kind = "import_errors"
    topic: ImportErrorsOf

    def interval(self) -> float | None:
        return self.hub.settings.import_errors_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return client.list_import_errors

    def got(self, data: Any) -> None:
        errors: list[DagImportError] = list(data)
        last = self.last
        if isinstance(last, ImportErrorsChanged) and list(last.errors) == errors:
            return  # nothing new: no event, no repaint
        self.publish(ImportErrorsChanged(errors))
