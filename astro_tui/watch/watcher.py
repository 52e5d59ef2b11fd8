"""One Watcher per deployment: it connects, keeps the feeds that somebody subscribes to, and
ties them together.

Plain asyncio and the API layer; no Textual (the TUI adapts events into messages, the CLI awaits
them). Only what somebody subscribes to is polled; what each topic polls is its feed's business
(feeds.py: the DAG list, a DAG's runs, a run's tasks, a try's log). The Watcher owns what is
shared: the connection and its recovery (connection.py), the cache (cache.py), and the "runs
changed since" poll (changes.py) that keeps every run state fresh.

The client lets at most `max_in_flight` requests of the deployment on the wire at once (default
1: concurrent requests are what crashed an Airflow 3.3 api-server at 5,000 DAGs, issue 13), and
a request the server is working on is never abandoned, except one that hangs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import Timeout, TlsError, Unreachable
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import Dag, DagRun, LogLine, TaskInstance
from astro_tui.watch.cache import Cache
from astro_tui.watch.changes import Changes
from astro_tui.watch.connection import OWN_POLLS, Connection
from astro_tui.watch.ends import Ends
from astro_tui.watch.events import (
    Connected,
    DagList,
    Event,
    HealthOf,
    InboxOf,
    LogOf,
    PollFailed,
    RunEnded,
    RunsOf,
    SharedTopic,
    TasksOf,
    Topic,
)
from astro_tui.watch.feed import Callback, Feed, Subscription
from astro_tui.watch.feeds import (
    BACKGROUND_RUNS_SECONDS,
    DagListFeed,
    LogFeed,
    LogSink,
    LogSubscription,
    RunsFeed,
    TasksFeed,
)
from astro_tui.watch.monitor import HealthFeed, ImportErrorsFeed, InboxFeed
from astro_tui.watch.schedule import Poll, PollState
from astro_tui.watch.settings import Settings

__all__ = ["Callback", "LogSink", "LogSubscription", "Subscription", "WatchStatus", "Watcher"]


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
        self._listeners: list[Callback] = []
        self._feeds: dict[Topic, Feed] = {}  # shared by every subscriber of a topic
        self._logs: list[LogFeed] = []  # log feeds are per subscriber
        self._conn = Connection(connect, self.settings, clock=clock, emit=self._emit,
                                connected=self._connected, polls=self._polls)
        self._ends = Ends()  # which runs end while watching (RunEnded)
        self._changes = Changes(self.settings.runs_seconds, lambda: self._conn.client, now,
                                self._runs_changed, self._changes_failed, clock)

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying with backoff until it works)."""
        self._conn.start()

    async def aclose(self) -> None:
        for poll in self._polls():
            if poll.name not in OWN_POLLS:
                await poll.aclose()
        self._feeds.clear()
        self._logs.clear()
        await self._conn.aclose()

    # -- reading -------------------------------------------------------------------------------

    @property
    def client(self) -> AirflowClient | None:
        """The connected client (None until connected): for writes, which are never retried."""
        return self._conn.client

    @property
    def dags(self) -> dict[str, Dag]:
        return dict(self.cache.dags)

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
        return [*self._conn.polls(), self._changes.poll,
                *(p for f in self._all_feeds() for p in f.polls())]

    def status(self, kind: str | None = None) -> WatchStatus:
        """Connected? What fails? `kind` ("runs", ...): that pane's poll counts as failing."""
        first = [self._conn.connect_poll]
        dags = self._feeds.get(DagList())
        if dags is not None:
            first.append(dags.poll)
        if kind is not None and kind != "dags":
            first += [f.poll for f in self._all_feeds() if f.kind == kind and not f.poll.paused]
        first.append(self._conn.probe)
        failing = [p for p in first if p.failures]
        # A request that failed on the way (a timeout, a dropped connection) while the server
        # answered other requests does not make the deployment "down": it is up, if slow (the
        # pane's own age says how stale its data is). Down is a failure with no answer since.
        down = next((p for p in failing if not self._answered_since(p)), None)
        # A request waits for the server, not a poll for its turn (serial polls are not slow);
        # "slow" is about recent answers (a one-off read's old duration must not linger).
        client = self._conn.client
        slow = client is not None and client.slow_recently()
        slow = slow or any(isinstance(p.last_error, Timeout) for p in failing)
        return WatchStatus(client is not None, str(client.version) if client else None,
                           down.last_error if down else None, self._conn.request_age(), slow)

    def _answered_since(self, poll: Poll) -> bool:
        """Whether `poll`'s last request failed on the way (not an HTTP error: the server sent
        that) and another poll has had a good answer since that request was sent."""
        error, sent = poll.last_error, poll.failed_sent
        if not isinstance(error, (Timeout, Unreachable)) or isinstance(error, TlsError) \
                or sent is None:
            return False
        return any(p.last_ok is not None and p.last_ok > sent for p in self._polls())

    def age(self, kind: str) -> tuple[float | None, float | None, bool]:
        """(seconds since the last good answer, interval, failing) of a kind's poll."""
        for poll in self._polls():
            if poll.name == kind:
                return poll.age(), poll.interval, bool(poll.failures)
        return None, None, False

    # -- subscribing ---------------------------------------------------------------------------

    def listen(self, callback: Callback) -> Callable[[], None]:
        """Every `Connected`, `PollFailed` and `RunEnded`; returns the function that stops it. A
        listener that comes after the connection gets `Connected` at once (soon)."""
        self._listeners.append(callback)
        if self._conn.client is not None:
            event = Connected(str(self._conn.client.version))
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
            feed = DagListFeed(self, topic)
            if self.cache.cached_at is not None:
                feed.last = self.cache.event()  # the saved list, at once, marked with its age
            return feed
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
                   delay: float = 0.0, raw: bool = False) -> LogSubscription:
        """Follow one try's log: `LogRead` events carry what `sink` made of the new lines
        (LogLines; with `raw`, Airflow 3's entries as decoded, which LineFormatter takes)."""
        feed = LogFeed(self, topic, sink, raw)
        self._logs.append(feed)
        sub = LogSubscription(feed, callback, self._unsubscribe)
        feed.subs.append(sub)
        self._start_feed(feed, delay)
        return sub

    async def read_log(self, topic: LogOf, sink: Callable[[Iterable[LogLine]], Any]) -> Any:
        """Read one try's whole log once (to save it), behind the polls' requests (the
        client's cap); returns what `sink` (run in a worker thread) returns."""
        client = self._conn.client
        if client is None:
            raise RuntimeError("not connected")
        reader = LogFollower(client, topic.dag_id, topic.run_id, topic.task_id,
                             topic.try_number, topic.map_index)
        return await reader.poll_with(sink, thread=True)

    def pace(self, background: bool) -> None:
        """In a fleet's background (issue 17): the DAG list and the runs changed are polled
        less often (what the inbox, the alerts and the deployments strip need); current again:
        the usual intervals, and the DAG list re-read now."""
        runs = self.settings.runs_seconds
        self._changes.poll.set_interval(max(runs, BACKGROUND_RUNS_SECONDS) if background else runs)
        for feed in self._all_feeds():
            feed.pace(background)

    def refresh(self, *kinds: str) -> None:
        """Poll now: every unpaused poll, or those of `kinds` ("dags", "changes", "runs",
        "tasks", "log")."""
        if self._conn.client is None:
            self._conn.connect_poll.poke()
            return
        dags = self._feeds.get(DagList())
        if isinstance(dags, DagListFeed) and (not kinds or "dags" in kinds):
            dags.full_next = True  # the whole list, not only the cheap check
        for poll in self._polls():
            if poll.name in OWN_POLLS or (kinds and poll.name not in kinds):
                continue
            if not poll.paused:
                poll.poke()

    def want_latest(self, dag_ids: Iterable[str]) -> None:
        """The DAG rows in view: the last run of each is read where not known yet (once; the
        changes poll keeps it fresh). Cheap to call on every scroll (lastrun.py)."""
        feed = self._feeds.get(DagList())
        if isinstance(feed, DagListFeed):
            feed.want(dag_ids)

    def _unsubscribe(self, feed: Feed, sub: Subscription) -> None:
        if sub in feed.subs:
            feed.subs.remove(sub)
        if feed.subs:
            feed.sync_pause()
            return
        for poll in feed.polls():
            poll.close()
        if isinstance(feed, LogFeed):
            if feed in self._logs:
                self._logs.remove(feed)
        elif self._feeds.get(feed.topic) is feed:
            del self._feeds[feed.topic]
            if isinstance(feed, DagListFeed):
                self._changes.stop()

    def _start_feed(self, feed: Feed, delay: float) -> None:
        if self._conn.client is not None:  # otherwise started when connected
            feed.start(self._conn.client, delay)

    # -- what the feeds share (their Hub) ------------------------------------------------------

    def failed(self, kind: str, topic: Topic | None, error: BaseException,
               feed: Feed | None = None) -> None:
        """A poll failed: its subscribers and the listeners hear of it; the probe starts."""
        event = PollFailed(kind, topic, error)
        if feed is not None:
            feed.deliver(event)
        self._emit(event)
        self._conn.trouble(kind)

    def publish_dags(self) -> None:
        feed = self._feeds.get(DagList())
        if feed is not None:
            feed.publish(self.cache.event())

    def dags_loaded(self, started: datetime) -> None:
        self._changes.start(started)
        cache = self.cache
        self._ends.begin(started, [*cache.latest.values(),
                                   *(r for runs in cache.recent.values() for r in runs)])

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

    def tis_seen(self, tis: Sequence[TaskInstance]) -> None:
        """A run's task instances as just read: the logs of that run followed hear of them."""
        if not tis or not self._logs:
            return
        run = (tis[0].dag_id, tis[0].run_id)
        by_key = {(t.task_id, t.map_index): t for t in tis}
        for feed in self._logs:
            if (feed.topic.dag_id, feed.topic.run_id) == run:
                feed.tis_seen(by_key)

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
        for run, before in self._ends.feed(runs):
            self._emit(RunEnded(run, before))

    def _changes_failed(self, error: BaseException) -> None:
        self.failed("changes", DagList(), error, self._feeds.get(DagList()))
        for feed in list(self._feeds.values()):
            feed.changes_failed(error)

    # -- connected -----------------------------------------------------------------------------

    def _connected(self, client: AirflowClient) -> None:
        self._emit(Connected(str(client.version)))
        for feed in self._all_feeds():
            self._start_feed(feed, 0.0)
