"""One Watcher per deployment: it connects, keeps the feeds that somebody subscribes to, and
ties them together.

Plain asyncio and the API layer; no Textual (the TUI adapts events into messages, the CLI awaits
them). Only what somebody subscribes to is polled; what each topic polls is its feed's business
(feeds.py: the DAG list, a DAG's runs, a run's tasks, a try's log). The Watcher owns what is
shared: the connection, the cache (cache.py), the "runs changed since" poll (changes.py) that
keeps every run state fresh, and recovery.

The client lets at most `max_in_flight` requests of the deployment on the wire at once (default
1: concurrent requests are what crashed an Airflow 3.3 api-server at 5,000 DAGs, issue 13), and
a request the server is working on is never abandoned, except one that hangs. While anything
fails, one cheap probe per interval tells when the server is back; then every failing poll runs
at once and a request stuck on a connection from before the outage is abandoned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import Dag, DagRun, LogLine
from astro_tui.watch.cache import Cache
from astro_tui.watch.changes import Changes
from astro_tui.watch.events import (
    Connected,
    DagList,
    DagsChanged,
    Event,
    HealthOf,
    InboxOf,
    LogOf,
    PollFailed,
    RunsOf,
    SharedTopic,
    TasksOf,
    Topic,
)
from astro_tui.watch.feed import Callback, Feed, Subscription
from astro_tui.watch.feeds import DagListFeed, LogFeed, LogSink, RunsFeed, TasksFeed
from astro_tui.watch.monitor import HealthFeed, ImportErrorsFeed, InboxFeed
from astro_tui.watch.schedule import Poll, PollState
from astro_tui.watch.settings import Settings

__all__ = ["Callback", "LogSink", "Subscription", "WatchStatus", "Watcher"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class WatchStatus:
    """The Watcher's health in one value, for a status line."""

    connected: bool
    version: str | None
    error: BaseException | None  # the error of a failing poll that matters, if any
    waiting: float  # seconds the oldest request in flight has waited
    slow: bool  # a recent answer took more than 3 s


class Watcher:
    """Watches one deployment. Create it inside a running event loop, then `start()`."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[AirflowClient]],
        settings: Settings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock
        self.now = now
        self.cache = Cache()
        self._connect = connect
        self._client: AirflowClient | None = None
        self._listeners: list[Callback] = []
        self._feeds: dict[Topic, Feed] = {}  # shared by every subscriber of a topic
        self._logs: list[LogFeed] = []  # log feeds are per subscriber
        s = self.settings
        self._connect_poll = Poll("connect", s.runs_seconds, self._connected,
                                  max_backoff=max(s.runs_seconds * 2, 10.0), timeout=30,
                                  clock=clock)
        self._changes = Changes(s.runs_seconds, lambda: self._client, now,
                                self._runs_changed, self._changes_failed, clock)
        # While anything fails or hangs, one cheap request per interval tells when the server
        # is back, so the panes (whose own polls back off up to 60 s) recover within about one
        # interval.
        self._probe = Poll("probe", s.runs_seconds, self._got_probe, timeout=5,
                           max_backoff=s.runs_seconds, clock=clock)
        #: when the first failure of the current trouble happened (None: all well)
        self._trouble_since: float | None = None
        self._closed = False

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying with backoff until it works)."""
        self._connect_poll.retarget(self._connect)

    async def aclose(self) -> None:
        self._closed = True
        for poll in self._polls():
            await poll.aclose()
        self._feeds.clear()
        self._logs.clear()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # -- reading -------------------------------------------------------------------------------

    @property
    def client(self) -> AirflowClient | None:
        """The connected client (None until connected): for writes, which are never retried."""
        return self._client

    @property
    def dags(self) -> dict[str, Dag]:
        return dict(self.cache.dags)

    @property
    def latest(self) -> dict[str, DagRun]:
        return dict(self.cache.latest)

    def runs_of(self, dag_id: str) -> list[DagRun]:
        feed = self._feeds.get(RunsOf(dag_id))
        return feed.runs() if isinstance(feed, RunsFeed) else []

    def topics(self) -> list[Topic]:
        """What is being polled (one entry per log subscriber)."""
        return [*self._feeds, *(f.topic for f in self._logs)]

    def state(self, kind: str) -> PollState | None:
        """The state of a poll by name ("connect", "dags", "changes", "probe") or of the first
        subscribed topic of a kind ("runs", "tasks", "log")."""
        for poll in self._polls():
            if poll.name == kind:
                return poll.state
        return None

    def states(self) -> dict[str, PollState]:
        """Every poll's state by name (the first of a kind, as `state`)."""
        found: dict[str, PollState] = {}
        for poll in self._polls():
            found.setdefault(poll.name, poll.state)
        return found

    def _all_feeds(self) -> list[Feed]:
        return [*self._feeds.values(), *self._logs]

    def _polls(self) -> list[Poll]:
        return [self._connect_poll, self._changes.poll, self._probe,
                *(p for f in self._all_feeds() for p in f.polls())]

    def status(self, kind: str | None = None) -> WatchStatus:
        """Connected? What fails? `kind` ("runs", ...): that pane's poll counts as failing."""
        first = [self._connect_poll]
        dags = self._feeds.get(DagList())
        if dags is not None:
            first.append(dags.poll)
        if kind is not None and kind != "dags":
            first += [f.poll for f in self._all_feeds() if f.kind == kind and not f.poll.paused]
        first.append(self._probe)
        failing = next((p for p in first if p.failures), None)
        # A request waits for the server, not a poll for its turn (serial polls are not slow);
        # "slow" is about recent answers (a one-off read's old duration must not linger).
        waiting = self._request_age()
        slow = self._client is not None and self._client.slow_recently()
        return WatchStatus(self._client is not None,
                           str(self._client.version) if self._client else None,
                           failing.last_error if failing else None, waiting, slow)

    def age(self, kind: str) -> tuple[float | None, float | None, bool]:
        """(seconds since the last good answer, interval, failing) of a kind's poll."""
        for poll in self._polls():
            if poll.name == kind:
                return poll.age(), poll.interval, bool(poll.failures)
        return None, None, False

    def _request_age(self) -> float:
        """Seconds the oldest request on the wire has waited (0: none), or, before the
        connection, how long connecting takes."""
        if self._client is None:
            return self._connect_poll.in_flight() or 0.0
        return self._client.oldest_request_age() or 0.0

    # -- subscribing ---------------------------------------------------------------------------

    def listen(self, callback: Callback) -> Callable[[], None]:
        """Every `Connected` and every `PollFailed`; returns the function that stops it. A
        listener that comes after the connection gets `Connected` at once (soon)."""
        self._listeners.append(callback)
        if self._client is not None:
            event = Connected(str(self._client.version))
            asyncio.get_running_loop().call_soon(
                lambda: callback(event) if callback in self._listeners else None)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def subscribe(self, topic: SharedTopic, callback: Callback, *,
                  delay: float = 0.0) -> Subscription:
        """Start receiving `topic`'s events. Data already known is delivered at once (soon,
        not re-entrantly); the first read waits `delay` seconds (a debounce while the cursor
        moves)."""
        feed = self._feeds.get(topic)
        if feed is None:
            feed = self._feeds[topic] = self._new_feed(topic)
            self._start_feed(feed, delay)
        sub = Subscription(feed, callback, self._unsubscribe)
        feed.subs.append(sub)
        feed.sync_pause()
        feed.deliver_last_soon(sub)
        return sub

    def _new_feed(self, topic: SharedTopic) -> Feed:
        if isinstance(topic, DagList):
            return DagListFeed(self, topic)
        if isinstance(topic, RunsOf):
            return RunsFeed(self, topic)
        if isinstance(topic, TasksOf):
            return TasksFeed(self, topic)
        if isinstance(topic, HealthOf):
            return HealthFeed(self, topic)
        if isinstance(topic, InboxOf):
            return InboxFeed(self, topic)
        return ImportErrorsFeed(self, topic)

    def follow_log(self, topic: LogOf, callback: Callback, sink: LogSink, *,
                   delay: float = 0.0) -> Subscription:
        """Follow one try's log: `LogRead` events carry what `sink` made of the new lines."""
        feed = LogFeed(self, topic, sink)
        self._logs.append(feed)
        sub = Subscription(feed, callback, self._unsubscribe)
        feed.subs.append(sub)
        self._start_feed(feed, delay)
        return sub

    def log_follower(self, sub: Subscription) -> LogFollower | None:
        """The follower behind a log subscription (its try, mode and counters)."""
        return sub.feed.follower if isinstance(sub.feed, LogFeed) else None

    def set_log_following(self, sub: Subscription, on: bool) -> None:
        """`f` in the log pane: stop or resume reading new lines."""
        if isinstance(sub.feed, LogFeed):
            sub.feed.set_following(on)

    async def read_log(self, topic: LogOf, sink: Callable[[Iterable[LogLine]], Any]) -> Any:
        """Read one try's whole log once (to save it), behind the polls' requests (the
        client's cap); returns what `sink` (run in a worker thread) returns."""
        client = self._client
        if client is None:
            raise RuntimeError("not connected")
        reader = LogFollower(client, topic.dag_id, topic.run_id, topic.task_id,
                             topic.try_number, topic.map_index)
        return await reader.poll_with(sink, thread=True)

    def refresh(self, *kinds: str) -> None:
        """Poll now: every unpaused poll, or those of `kinds` ("dags", "changes", "runs",
        "tasks", "log")."""
        if self._client is None:
            self._connect_poll.poke()
            return
        for poll in self._polls():
            if poll.name in ("connect", "probe") or (kinds and poll.name not in kinds):
                continue
            if not poll.paused:
                poll.poke()

    def _unsubscribe(self, feed: Feed, sub: Subscription) -> None:
        if sub in feed.subs:
            feed.subs.remove(sub)
        if feed.subs:
            feed.sync_pause()
            return
        feed.poll.close()
        if isinstance(feed, LogFeed):
            if feed in self._logs:
                self._logs.remove(feed)
        elif self._feeds.get(feed.topic) is feed:
            del self._feeds[feed.topic]
            if isinstance(feed, DagListFeed):
                self._changes.stop()

    def _start_feed(self, feed: Feed, delay: float) -> None:
        if self._client is not None:  # otherwise started when connected
            feed.start(self._client, delay)

    # -- what the feeds share (their Hub) ------------------------------------------------------

    def failed(self, kind: str, topic: Topic | None, error: BaseException,
               feed: Feed | None = None) -> None:
        """A poll failed: its subscribers and the listeners hear of it; the probe starts."""
        event = PollFailed(kind, topic, error)
        if self._trouble_since is None:
            self._trouble_since = time.monotonic()
        if feed is not None:
            feed.deliver(event)
        self._emit(event)
        if kind not in ("probe", "connect"):
            self._start_probe()

    def publish_dags(self) -> None:
        feed = self._feeds.get(DagList())
        if feed is not None:
            cache = self.cache
            feed.publish(DagsChanged(dict(cache.dags), dict(cache.latest),
                                     {k: tuple(v) for k, v in cache.recent.items()}))

    def dags_loaded(self, started: datetime) -> None:
        self._changes.start(started)

    def run(self, dag_id: str, run_id: str) -> DagRun | None:
        """A run as last seen (in its DAG's runs, or as the DAG's latest)."""
        for run in self.runs_of(dag_id):
            if run.run_id == run_id:
                return run
        latest = self.cache.latest.get(dag_id)
        return latest if latest is not None and latest.run_id == run_id else None

    def run_seen(self, run: DagRun) -> None:
        """A watched run that ended (or restarted): its tasks poll adapts."""
        feed = self._feeds.get(TasksOf(run.dag_id, run.run_id))
        if feed is not None:
            feed.run_changed(run)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- the changes poll ----------------------------------------------------------------------

    def _runs_changed(self, runs: list[DagRun], recovered: bool) -> None:
        changed = [run for run in runs if self.cache.note(run)]
        if changed or recovered:
            self.publish_dags()  # (after a failure: the data is fresh again)
        by_dag: dict[str, list[DagRun]] = {}
        for run in runs:
            by_dag.setdefault(run.dag_id, []).append(run)
        for feed in list(self._feeds.values()):
            feed.runs_seen(by_dag, recovered)
        for run in runs:
            self.run_seen(run)

    def _changes_failed(self, error: BaseException) -> None:
        self.failed("changes", DagList(), error, self._feeds.get(DagList()))
        for feed in list(self._feeds.values()):
            feed.changes_failed(error)

    # -- connect and recovery ------------------------------------------------------------------

    def _connected(self, client: Any, error: BaseException | None) -> None:
        if error is not None:
            self._emit(PollFailed("connect", None, error))
            return
        assert isinstance(client, AirflowClient)
        # The polls are the retry mechanism here (with backoff, and a probe for recovery).
        client.set_attempts(1)
        client.set_max_in_flight(self.settings.max_in_flight)
        self._client = client
        self._connect_poll.retarget(None)
        self._emit(Connected(str(client.version)))
        for feed in self._all_feeds():
            self._start_feed(feed, 0.0)

    def _start_probe(self) -> None:
        if self._client is not None and not self._probe.targeted and not self._closed:
            self._probe.retarget(self._client.ping, delay=self._probe.interval or 5.0)

    def _got_probe(self, _data: Any, error: BaseException | None) -> None:
        if error is not None:
            if self._trouble_since is None:
                self._trouble_since = time.monotonic()
            self._emit(PollFailed("probe", None, error))
            return
        # The server answers again: every failing or stuck poll runs now, backoff forgotten.
        self._probe.retarget(None)
        trouble, self._trouble_since = self._trouble_since, None
        client = self._client
        sent = client.oldest_request_start() if client is not None else None
        # Only a request sent before the trouble began is stuck on a dead connection; one that
        # is merely slow (a 200k-line log) is the server working: it is never abandoned.
        stuck = trouble is not None and sent is not None and sent < trouble
        for poll in self._polls():
            if poll.name in ("probe", "connect") or not poll.targeted:
                continue
            if stuck and poll.busy:
                poll.restart()  # stuck on (or queued behind) a connection from before the outage
            elif poll.failures:
                poll.poke()
