"""One Watcher per deployment: its polls, its cached data, and who is subscribed to what.

Plain asyncio and the API layer; no Textual (the TUI adapts events into messages, the CLI awaits
them). Only what somebody subscribes to is polled:

* `DagList`: the DAGs with each one's latest run, re-read every `dags_seconds`; once it is
  loaded, one "runs changed since" query every `runs_seconds` keeps the latest runs (and the
  subscribed DAGs' runs) fresh without re-reading anything else.
* `RunsOf(dag)`: that DAG's newest runs, read on subscribe and when the changes poll sees a new
  run; known runs are updated from the changes poll itself.
* `TasksOf(dag, run)`: the run's task instances every `tasks_seconds` while the run is active,
  once when it is over.
* `LogOf(...)` (`follow_log`): a try's log, read incrementally until the try is over.

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
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import Dag, DagRun, LogLine, TaskInstance
from astro_tui.present.states import ACTIVE_RUN_STATES
from astro_tui.watch.events import (
    Connected,
    DagList,
    DagsChanged,
    Event,
    LogOf,
    LogRead,
    PollFailed,
    RunsChanged,
    RunsOf,
    TasksChanged,
    TasksOf,
    Topic,
    topic_kind,
)
from astro_tui.watch.schedule import Poll, PollState
from astro_tui.watch.settings import Settings

Callback = Callable[[Event], None]
#: turns a log read's new lines into what the subscriber keeps; runs in a worker thread and may
#: hand over pieces early through `emit` (a big log shows up while it is still being read)
LogSink = Callable[[Iterable[LogLine], Callable[[Any], None]], Any]

#: How many recent runs (all DAGs) give each DAG its "last run" state on a full refresh.
LATEST_RUNS_WINDOW = 1000


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def newer(run: DagRun, than: DagRun | None) -> bool:
    """Whether `run` is at least as recent as `than` (the same run counts as newer)."""
    if than is None or run.run_id == than.run_id:
        return True

    def when(r: DagRun) -> datetime:
        return r.run_after or r.logical_date or r.start_date or datetime.min.replace(
            tzinfo=timezone.utc)

    return when(run) >= when(than)


@dataclass(frozen=True)
class WatchStatus:
    """The Watcher's health in one value, for a status line."""

    connected: bool
    version: str | None
    error: BaseException | None  # the error of a failing poll that matters, if any
    waiting: float  # seconds the oldest request in flight has waited
    slow: bool  # a recent answer took more than 3 s


class Subscription:
    """A subscriber's handle: `close()` it when the data is no longer shown."""

    def __init__(self, watcher: Watcher, feed: _Feed, callback: Callback) -> None:
        self._watcher = watcher
        self._feed = feed
        self._callback = callback
        self._paused = False
        self.closed = False

    @property
    def topic(self) -> Topic:
        return self._feed.topic

    @property
    def state(self) -> PollState:
        return self._feed.poll.state

    def deliver(self, event: Event) -> None:
        if not self.closed:
            self._callback(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._watcher._unsubscribe(self._feed, self)

    def pause(self) -> None:
        """Stop polling for this subscriber (the pane is hidden); cached data stays."""
        if not self._paused:
            self._paused = True
            self._feed.sync_pause()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._feed.sync_pause()

    @property
    def paused(self) -> bool:
        return self._paused

    def refresh(self) -> None:
        self._feed.poll.poke()


class _Feed:
    """One polled topic: its poll, its subscribers and its last data."""

    poll: Poll  # set right after creation (its callback needs the feed)

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self.subs: list[Subscription] = []
        self.last: Event | None = None  # the last data event, for late subscribers
        self.follower: LogFollower | None = None
        self.sink: LogSink | None = None
        self.run_state: str | None = None  # TasksOf: the run's state as last seen

    def sync_pause(self) -> None:
        if self.subs and all(s.paused for s in self.subs):
            self.poll.pause()
        else:
            self.poll.resume()

    def deliver(self, event: Event) -> None:
        for sub in list(self.subs):
            sub.deliver(event)


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
        self._connect = connect
        self._clock = clock
        self._now = now
        self._client: AirflowClient | None = None
        self._listeners: list[Callback] = []
        self._feeds: dict[Topic, _Feed] = {}
        self._logs: list[_Feed] = []  # log feeds are per subscriber
        s = self.settings
        self._connect_poll = Poll("connect", s.runs_seconds, self._connected,
                                  max_backoff=max(s.runs_seconds * 2, 10.0), timeout=30,
                                  clock=clock)
        self._changes = Poll("changes", s.runs_seconds, self._got_changes,
                             clock=clock)
        # While anything fails or hangs, one cheap request per interval tells when the server
        # is back, so the panes (whose own polls back off up to 60 s) recover within about one
        # interval.
        self._probe = Poll("probe", s.runs_seconds, self._got_probe, timeout=5,
                           max_backoff=s.runs_seconds, clock=clock)
        self._runs_since: datetime | None = None
        self._changes_failed = False
        #: when the first failure of the current trouble happened (None: all well)
        self._trouble_since: float | None = None
        self._dags: dict[str, Dag] = {}
        self._latest: dict[str, DagRun] = {}
        self._closed = False

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying with backoff until it works)."""
        self._connect_poll.retarget(self._connect)

    async def aclose(self) -> None:
        self._closed = True
        polls = [self._connect_poll, self._changes, self._probe]
        polls += [f.poll for f in self._feeds.values()] + [f.poll for f in self._logs]
        for poll in polls:
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
        return dict(self._dags)

    @property
    def latest(self) -> dict[str, DagRun]:
        return dict(self._latest)

    def runs_of(self, dag_id: str) -> list[DagRun]:
        feed = self._feeds.get(RunsOf(dag_id))
        last = feed.last if feed is not None else None
        return list(last.runs) if isinstance(last, RunsChanged) else []

    def state(self, kind: str) -> PollState | None:
        """The state of a poll by name ("connect", "dags", "changes", "probe") or of the first
        subscribed topic of a kind ("runs", "tasks", "log")."""
        fixed = {"connect": self._connect_poll, "changes": self._changes, "probe": self._probe}
        if kind in fixed:
            return fixed[kind].state
        for feed in [*self._feeds.values(), *self._logs]:
            if topic_kind(feed.topic) == kind:
                return feed.poll.state
        return None

    def states(self) -> dict[str, PollState]:
        """Every poll's state by name (the first of a kind, as `state`)."""
        found: dict[str, PollState] = {}
        for poll in self._polls():
            found.setdefault(poll.name, poll.state)
        return found

    def _polls(self) -> list[Poll]:
        return [self._connect_poll, self._changes, self._probe,
                *(f.poll for f in self._feeds.values()), *(f.poll for f in self._logs)]

    def status(self, kind: str | None = None) -> WatchStatus:
        """Connected? What fails? `kind` ("runs", ...): that pane's poll counts as failing."""
        first = [self._connect_poll]
        dags = self._feeds.get(DagList())
        if dags is not None:
            first.append(dags.poll)
        if kind is not None and kind != "dags":
            mine = [f.poll for f in (*self._feeds.values(), *self._logs)
                    if topic_kind(f.topic) == kind and not f.poll.paused]
            first += mine
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

    def subscribe(self, topic: DagList | RunsOf | TasksOf, callback: Callback, *,
                  delay: float = 0.0) -> Subscription:
        """Start receiving `topic`'s events. Data already known is delivered at once (soon,
        not re-entrantly); the first read waits `delay` seconds (a debounce while the cursor
        moves)."""
        feed = self._feeds.get(topic)
        if feed is None:
            feed = self._feeds[topic] = _Feed(topic)
            feed.poll = self._make_poll(feed)
            self._start_feed(feed, delay)
        sub = Subscription(self, feed, callback)
        feed.subs.append(sub)
        feed.sync_pause()
        if feed.last is not None:
            last = feed.last
            asyncio.get_running_loop().call_soon(sub.deliver, last)
        return sub

    def follow_log(self, topic: LogOf, callback: Callback, sink: LogSink, *,
                   delay: float = 0.0) -> Subscription:
        """Follow one try's log: `LogRead` events carry what `sink` made of the new lines."""
        feed = _Feed(topic)
        feed.poll = Poll("log", self.settings.log_seconds, partial(self._got_log, feed),
                         clock=self._clock)
        feed.sink = sink
        self._logs.append(feed)
        sub = Subscription(self, feed, callback)
        feed.subs.append(sub)
        self._start_feed(feed, delay)
        return sub

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

    def _unsubscribe(self, feed: _Feed, sub: Subscription) -> None:
        if sub in feed.subs:
            feed.subs.remove(sub)
        if feed.subs:
            feed.sync_pause()
            return
        feed.poll.close()
        if isinstance(feed.topic, LogOf) and feed in self._logs:
            self._logs.remove(feed)
        elif self._feeds.get(feed.topic) is feed:
            del self._feeds[feed.topic]
            if isinstance(feed.topic, DagList):
                self._changes.retarget(None)
                self._runs_since = None

    # -- polls ---------------------------------------------------------------------------------

    def _make_poll(self, feed: _Feed) -> Poll:
        s = self.settings
        topic = feed.topic
        if isinstance(topic, DagList):
            interval: float | None = s.dags_seconds
        elif isinstance(topic, RunsOf):
            # fetched on subscribe and when the changes poll sees a new run; the interval is
            # only a safety net
            interval = s.dags_seconds
        else:
            interval = s.tasks_seconds
        return Poll(topic_kind(topic), interval, partial(self._answer, feed),
                    clock=self._clock)

    def _start_feed(self, feed: _Feed, delay: float) -> None:
        client = self._client
        if client is None:
            return  # started when connected
        topic = feed.topic
        fetch: Callable[[], Awaitable[Any]]
        if isinstance(topic, DagList):
            fetch = self._fetch_dags
        elif isinstance(topic, RunsOf):
            fetch = partial(self._fetch_runs, client, topic)
        elif isinstance(topic, TasksOf):
            fetch = partial(client.list_task_instances, topic.dag_id, topic.run_id)
            run = self._run(topic.dag_id, topic.run_id)
            feed.run_state = run.state if run is not None else None
            feed.poll.retarget(fetch, delay=delay, interval=self._tasks_interval(run))
            feed.sync_pause()
            return
        else:
            feed.follower = LogFollower(client, topic.dag_id, topic.run_id, topic.task_id,
                                        topic.try_number, topic.map_index,
                                        interval=self.settings.log_seconds)
            fetch = partial(self._fetch_log, feed)
        feed.poll.retarget(fetch, delay=delay)
        feed.sync_pause()

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _failed(self, kind: str, topic: Topic | None, error: BaseException,
                feed: _Feed | None = None) -> None:
        event = PollFailed(kind, topic, error)
        if self._trouble_since is None:
            self._trouble_since = time.monotonic()
        if feed is not None:
            feed.deliver(event)
        self._emit(event)
        if kind not in ("probe", "connect"):
            self._start_probe()

    # connect

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
        for feed in [*self._feeds.values(), *self._logs]:
            self._start_feed(feed, 0.0)

    # probe

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

    def _request_age(self) -> float:
        """Seconds the oldest request on the wire has waited (0: none), or, before the
        connection, how long connecting takes."""
        if self._client is None:
            return self._connect_poll.in_flight() or 0.0
        return self._client.oldest_request_age() or 0.0

    # the DAG list and the changes poll

    async def _fetch_dags(self) -> tuple[datetime, list[Dag], list[DagRun]]:
        client = self._client
        assert client is not None
        started = self._now()
        dags, (runs, _) = await asyncio.gather(
            client.list_dags(), client.list_runs_batch(None, limit=LATEST_RUNS_WINDOW))
        return started, dags, runs

    def _answer(self, feed: _Feed, data: Any, error: BaseException | None) -> None:
        topic = feed.topic
        if error is not None:
            self._failed(topic_kind(topic), topic, error, feed)
            return
        if isinstance(topic, DagList):
            self._got_dags(feed, data)
        elif isinstance(topic, RunsOf):
            self._got_runs(feed, data)
        elif isinstance(topic, TasksOf):
            self._got_tasks(feed, data)

    def _got_dags(self, feed: _Feed, data: tuple[datetime, list[Dag], list[DagRun]]) -> None:
        started, dags, runs = data
        self._dags = {d.dag_id: d for d in dags}
        latest: dict[str, DagRun] = {}
        for run in runs:
            if newer(run, latest.get(run.dag_id)):
                latest[run.dag_id] = run
        # runs read since (by a runs feed) may be newer than the batch's
        for dag_id, run in self._latest.items():
            if dag_id in self._dags and newer(run, latest.get(dag_id)) and \
                    run.run_id != (latest.get(dag_id) or run).run_id:
                latest[dag_id] = run
        self._latest = latest
        # A big deployment's list takes long to read: read it again at most every three read
        # times (the changes poll keeps the states fresh meanwhile; issue 13).
        took = feed.poll.last_duration or 0.0
        feed.poll.set_interval(max(self.settings.dags_seconds, 3 * took))
        self._publish_dags(feed)
        if self._runs_since is None:
            # From now on, ask only for runs changed since the last answer (minus clock slack).
            self._runs_since = started - timedelta(seconds=30)
            self._changes.retarget(self._fetch_changes, delay=self.settings.runs_seconds)

    def _publish_dags(self, feed: _Feed | None = None) -> None:
        feed = feed or self._feeds.get(DagList())
        if feed is None:
            return
        event = DagsChanged(dict(self._dags), dict(self._latest))
        feed.last = event
        feed.deliver(event)

    async def _fetch_changes(self) -> tuple[datetime, list[DagRun]]:
        client = self._client
        assert client is not None
        started = self._now()
        runs, _ = await client.list_runs("~", limit=100, updated_at_gte=self._runs_since)
        return started, runs

    def _got_changes(self, data: Any, error: BaseException | None) -> None:
        recovered = self._changes_failed and error is None
        self._changes_failed = error is not None
        if error is not None:
            feed = self._feeds.get(DagList())
            self._failed("changes", DagList(), error, feed)
            for topic, runs_feed in self._feeds.items():
                if isinstance(topic, RunsOf) and not runs_feed.poll.failures:
                    runs_feed.deliver(PollFailed("changes", topic, error))
            return
        started, runs = data
        self._runs_since = started - timedelta(seconds=30)
        changed = False
        for run in runs:
            if run.dag_id in self._dags and newer(run, self._latest.get(run.dag_id)):
                if self._latest.get(run.dag_id) != run:
                    changed = True
                self._latest[run.dag_id] = run
        if changed or recovered:
            self._publish_dags()  # (after a failure: the data is fresh again)
        if recovered:
            for topic, feed in self._feeds.items():
                if isinstance(topic, RunsOf) and feed.last is not None:
                    feed.deliver(feed.last)
        by_dag: dict[str, list[DagRun]] = {}
        for run in runs:
            by_dag.setdefault(run.dag_id, []).append(run)
        for topic, feed in list(self._feeds.items()):
            if isinstance(topic, RunsOf):
                self._merge_runs(feed, topic, by_dag.get(topic.dag_id, []))
        for run in runs:  # a watched run that ended (or restarted): its tasks poll adapts
            self._run_changed(run)

    def _merge_runs(self, feed: _Feed, topic: RunsOf, mine: list[DagRun]) -> None:
        last = feed.last
        if not isinstance(last, RunsChanged):
            return
        known = {r.run_id: r for r in last.runs}
        if any(r.run_id not in known for r in mine):
            feed.poll.poke()  # a new run: re-read the page (order, total)
            return
        for run in mine:  # known runs changed (a running run's updated_at moves all the time)
            known[run.run_id] = run
        if mine or any(r.state in ACTIVE_RUN_STATES for r in known.values()):
            # new states; running durations move on without a request
            event = RunsChanged(topic.dag_id, list(known.values()), last.total)
            feed.last = event
            feed.deliver(event)
        for run in mine:
            self._run_changed(run)

    # runs and tasks

    async def _fetch_runs(self, client: AirflowClient,
                          topic: RunsOf) -> tuple[list[DagRun], int]:
        return await client.list_runs(topic.dag_id, limit=self.settings.runs_limit)

    def _got_runs(self, feed: _Feed, data: tuple[list[DagRun], int]) -> None:
        runs, total = data
        topic = feed.topic
        assert isinstance(topic, RunsOf)
        dag_id = topic.dag_id
        if runs and dag_id in self._dags and newer(runs[0], self._latest.get(dag_id)):
            if self._latest.get(dag_id) != runs[0]:
                self._latest[dag_id] = runs[0]
                self._publish_dags()
        event = RunsChanged(dag_id, list(runs), total)
        feed.last = event
        feed.deliver(event)
        for run in runs:
            self._run_changed(run)

    def _run(self, dag_id: str, run_id: str) -> DagRun | None:
        feed = self._feeds.get(RunsOf(dag_id))
        last = feed.last if feed is not None else None
        if isinstance(last, RunsChanged):
            for run in last.runs:
                if run.run_id == run_id:
                    return run
        latest = self._latest.get(dag_id)
        return latest if latest is not None and latest.run_id == run_id else None

    def _tasks_interval(self, run: DagRun | None) -> float | None:
        if run is not None and run.state is not None and run.state not in ACTIVE_RUN_STATES:
            return None  # a finished run's tasks are fetched once
        return self.settings.tasks_seconds

    def _run_changed(self, run: DagRun) -> None:
        feed = self._feeds.get(TasksOf(run.dag_id, run.run_id))
        if feed is None or run.state == feed.run_state:
            return
        feed.run_state = run.state
        interval = self._tasks_interval(run)
        if interval != feed.poll.interval or run.state not in ACTIVE_RUN_STATES:
            feed.poll.set_interval(interval)
            feed.poll.poke()  # the run changed state: fetch its tasks now

    def _got_tasks(self, feed: _Feed, tis: list[TaskInstance]) -> None:
        topic = feed.topic
        assert isinstance(topic, TasksOf)
        event = TasksChanged(topic.dag_id, topic.run_id, list(tis))
        feed.last = event
        run = self._run(topic.dag_id, topic.run_id)
        over = run is not None and run.state is not None and run.state not in ACTIVE_RUN_STATES
        if tis and all(t.finished for t in tis) and (over or run is None):
            # Over (or, with nothing telling the run's state, every task is): read once more
            # only when the changes poll sees the run change again.
            feed.poll.set_interval(None)
        feed.deliver(event)

    # logs

    async def _fetch_log(self, feed: _Feed) -> Any:
        follower, sink = feed.follower, feed.sink
        assert follower is not None and sink is not None
        loop = asyncio.get_running_loop()
        generation = feed.poll.state.generation

        def emit(piece: Any) -> None:  # in the worker thread
            loop.call_soon_threadsafe(self._log_piece, feed, generation, piece)

        return await follower.poll_with(lambda lines: sink(lines, emit), thread=True)

    def _log_event(self, feed: _Feed, data: Any, partial_read: bool) -> LogRead:
        follower = feed.follower
        topic = feed.topic
        assert isinstance(topic, LogOf) and follower is not None
        return LogRead(topic, data, partial_read, follower.finished and not partial_read,
                       follower.try_number, follower.ti)

    def _log_piece(self, feed: _Feed, generation: int, piece: Any) -> None:
        if feed.poll.state.generation == generation and feed.subs:
            feed.deliver(self._log_event(feed, piece, True))

    def _got_log(self, feed: _Feed, data: Any, error: BaseException | None) -> None:
        if error is not None:
            self._failed("log", feed.topic, error, feed)
            return
        follower = feed.follower
        if follower is not None and follower.finished:
            feed.poll.set_interval(None)
        feed.deliver(self._log_event(feed, data, False))

    def log_follower(self, sub: Subscription) -> LogFollower | None:
        """The follower behind a log subscription (its try, mode and counters)."""
        return sub._feed.follower

    async def read_log(self, topic: LogOf, sink: Callable[[Iterable[LogLine]], Any]) -> Any:
        """Read one try's whole log once (to save it), behind the polls' requests (the client's cap); returns
        what `sink` (run in a worker thread) returns."""
        client = self._client
        if client is None:
            raise RuntimeError("not connected")
        reader = LogFollower(client, topic.dag_id, topic.run_id, topic.task_id,
                             topic.try_number, topic.map_index)
        return await reader.poll_with(sink, thread=True)

    def set_log_following(self, sub: Subscription, on: bool) -> None:
        """`f` in the log pane: stop or resume reading new lines."""
        poll = sub._feed.poll
        if on:
            poll.set_interval(self.settings.log_seconds)
            poll.poke()
        else:
            poll.set_interval(None)
