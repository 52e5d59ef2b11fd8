"""One polled topic (a feed) and a subscriber's handle on it.

A feed owns its poll, its subscribers and its last data event; what it fetches and how it turns
an answer into events is its subclass's business (feeds.py). It reaches the rest of the Watcher
only through `Hub`: the client, the settings, the shared cache and the failure path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.models import DagRun, TaskInstance
from astro_tui.watch.cache import Cache
from astro_tui.watch.events import Event, Topic
from astro_tui.watch.schedule import Poll, PollState
from astro_tui.watch.settings import Settings

Callback = Callable[[Event], None]
Fetch = Callable[[], Awaitable[Any]]


class Hub(Protocol):
    """What a feed may ask of its Watcher."""

    settings: Settings
    cache: Cache
    clock: Callable[[], float]
    now: Callable[[], datetime]

    @property
    def client(self) -> AirflowClient | None: ...

    def failed(self, kind: str, topic: Topic | None, error: BaseException,
               feed: Feed | None = None) -> None: ...

    def publish_dags(self) -> None: ...

    def dags_loaded(self, started: datetime) -> None: ...

    def run(self, dag_id: str, run_id: str) -> DagRun | None: ...

    def run_seen(self, run: DagRun) -> None: ...

    def tis_seen(self, tis: Sequence[TaskInstance]) -> None: ...


class Subscription:
    """A subscriber's handle: `close()` it when the data is no longer shown."""

    def __init__(self, feed: Feed, callback: Callback,
                 on_close: Callable[[Feed, Subscription], None]) -> None:
        self.feed = feed
        self._callback = callback
        self._on_close = on_close
        self._paused = False
        self.closed = False

    @property
    def topic(self) -> Topic:
        return self.feed.topic

    @property
    def state(self) -> PollState:
        return self.feed.poll.state

    def deliver(self, event: Event) -> None:
        if not self.closed:
            self._callback(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close(self.feed, self)

    def pause(self) -> None:
        """Stop polling for this subscriber (the pane is hidden); cached data stays."""
        if not self._paused:
            self._paused = True
            self.feed.sync_pause()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self.feed.sync_pause()

    @property
    def paused(self) -> bool:
        return self._paused

    def refresh(self) -> None:
        self.feed.refresh()


class Feed:
    """One polled topic: its poll, its subscribers and its last data."""

    kind: ClassVar[str]  # the poll's name: "dags", "runs", "tasks", "log"

    def __init__(self, hub: Hub, topic: Topic) -> None:
        self.hub = hub
        self.topic = topic
        self.subs: list[Subscription] = []
        self.last: Event | None = None  # the last data event, for late subscribers
        self.poll = Poll(self.kind, self.interval(), self._answer, clock=hub.clock)

    # -- what a kind of feed decides -----------------------------------------------------------

    def interval(self) -> float | None:
        """The poll's interval before the first answer."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Poll now (asked for by the user)."""
        self.poll.poke()

    def fetcher(self, client: AirflowClient) -> Fetch:
        """What one poll of this topic requests."""
        raise NotImplementedError

    def got(self, data: Any) -> None:
        """A good answer: update the cache, publish events."""
        raise NotImplementedError

    # the changes poll's news (runs changed anywhere since its last answer)

    def runs_seen(self, by_dag: Mapping[str, Sequence[DagRun]], recovered: bool) -> None:
        """Runs that changed, by DAG; `recovered`: the changes poll works again."""

    #: in a fleet's background (issue 17): poll at least this seldom (None: as usual)
    background_seconds: float | None = None

    def pace(self, background: bool) -> None:
        """The deployment is (no longer) in a fleet's background: poll less (or as usual)."""
        if self.background_seconds is not None:
            usual = self.interval()
            self.poll.set_interval(max(usual or 0.0, self.background_seconds) if background
                                   else usual)

    def changes_failed(self, error: BaseException) -> None:
        """The changes poll failed (so this feed's data may be stale)."""

    def run_changed(self, run: DagRun) -> None:
        """A run was seen (by any poll) with this state."""

    # -- common --------------------------------------------------------------------------------

    def start(self, client: AirflowClient, delay: float) -> None:
        """Poll (again) with a connected client; the first request after `delay` seconds."""
        self.poll.retarget(self.fetcher(client), delay=delay)
        self.sync_pause()

    def polls(self) -> list[Poll]:
        return [self.poll]

    def publish(self, event: Event) -> None:
        self.last = event
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        for sub in list(self.subs):
            sub.deliver(event)

    def deliver_last_soon(self, sub: Subscription) -> None:
        """A late subscriber gets the data already known (soon, not re-entrantly)."""
        if self.last is not None:
            asyncio.get_running_loop().call_soon(sub.deliver, self.last)

    def sync_pause(self) -> None:
        if self.subs and all(s.paused for s in self.subs):
            self.poll.pause()
        else:
            self.poll.resume()

    def _answer(self, data: Any, error: BaseException | None) -> None:
        if error is not None:
            self.hub.failed(self.kind, self.topic, error, self)
        else:
            self.got(data)
