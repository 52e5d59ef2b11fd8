"""The four kinds of feed, one per topic: what each polls and what each makes of an answer.

* `DagListFeed` (`DagList`): the DAGs with each one's latest run, re-read every `dags_seconds`
  (at most every three read times on a big deployment); its first answer starts the Watcher's
  "runs changed since" poll, which keeps the latest runs fresh in between. Last runs older than
  the newest runs read are read by its `LastRunReader` (lastrun.py).
* `RunsFeed` (`RunsOf`): a DAG's newest runs, read on subscribe and when the changes poll sees a
  new run; known runs are updated from the changes poll itself.
* `TasksFeed` (`TasksOf`): a run's task instances every `tasks_seconds` while the run is active,
  once when it is over.
* `LogFeed` (`LogOf`): one try's log, read incrementally until the try is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import NotFound
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import Dag, DagRun, DagsMark, LogLine, TaskInstance
from astro_tui.present.states import ACTIVE_RUN_STATES
from astro_tui.watch.events import (
    DagList,
    DagsChanged,
    LogOf,
    LogRead,
    PollFailed,
    RunsChanged,
    RunsOf,
    TasksChanged,
    TasksOf,
)
from astro_tui.watch.feed import Feed, Fetch, Hub, Subscription
from astro_tui.watch.lastrun import LastRunReader, Window, read_window
from astro_tui.watch.schedule import Poll

#: turns a log read's new lines into what the subscriber keeps; runs in a worker thread and may
#: hand over pieces early through `emit` (a big log shows up while it is still being read)
LogSink = Callable[[Iterable[LogLine], Callable[[Any], None]], Any]

#: A fleet's deployment that is not current (issue 17): its DAG list is re-read this seldom (the
#: changes poll keeps its run states fresh meanwhile, for the alerts and the inbox), and its runs
#: changed at most this often (its health and inbox: see their feeds' background_seconds).
BACKGROUND_DAGS_SECONDS = 300.0
BACKGROUND_RUNS_SECONDS = 30.0
#: the most runs of one DAG the runs pane reads (paging back on demand stops there)
MAX_RUNS_SHOWN = 500
#: a page of runs (Airflow's default maximum_page_limit is 100)
PAGE = 100

#: The DAG list is read whole at least this often; in between, each poll is a cheap check
#: (`AirflowClient.dags_mark`: three one-item requests) and a full read only when it moved.
FULL_READ_SECONDS = 600.0
#: DAGs with a new run since the last read are read again one by one (their next run moved), up
#: to this many per poll; more than that: a full read
MOVED_MAX = 10
#: a big list's first read shows its pages as they arrive, each time they have grown this much
EARLY_PAINT_GROWTH = 2


@dataclass
class _Quick:
    """A poll that found the list unchanged: the DAGs read again one by one."""

    dags: list[Dag]


class DagListFeed(Feed):
    kind = "dags"
    topic: DagList

    #: in a fleet's background (see BACKGROUND_DAGS_SECONDS)
    background = False

    def __init__(self, hub: Hub, topic: DagList) -> None:
        super().__init__(hub, topic)
        self.reader = LastRunReader(hub.cache, hub.publish_dags, self._reader_failed, hub.clock)
        #: the cheap check's answer taken before the last full read, and when that read began
        self.mark: DagsMark | None = None
        self.full_at: float | None = None
        self.full_took = 0.0
        #: the next poll reads the whole list (a refresh asked for by the user)
        self.full_next = True
        #: the rows in view while the first read was still going on
        self.early_want: list[str] = []

    def interval(self) -> float | None:
        return BACKGROUND_DAGS_SECONDS if self.background else self.hub.settings.dags_seconds

    def pace(self, background: bool) -> None:
        if background == self.background:
            return
        self.background = background
        self.poll.set_interval(self.interval())
        if not background:
            self.poll.poke()  # shown again: a fresh list now

    def refresh(self) -> None:
        self.full_next = True
        super().refresh()

    def fetcher(self, client: AirflowClient) -> Fetch:
        self.mark, self.full_next = None, True  # (re)connected: read it whole
        return partial(self._fetch, client)

    def start(self, client: AirflowClient, delay: float) -> None:
        super().start(client, delay)
        self.reader.start(client)

    def polls(self) -> list[Poll]:
        return [self.poll, self.reader.poll]

    def sync_pause(self) -> None:
        super().sync_pause()
        if self.poll.paused:
            self.reader.poll.pause()
        else:
            self.reader.poll.resume()

    def want(self, dag_ids: Iterable[str]) -> None:
        """The rows in view: their last runs are read where not known (the first read's early
        pages: once it is over)."""
        if not self.hub.cache.dags:
            self.early_want = list(dag_ids)
            return
        self.reader.want(dag_ids)

    def _reader_failed(self, error: BaseException) -> None:
        self.hub.failed("lastrun", self.topic, error)

    def _too_soon(self) -> bool:
        """A big deployment's list takes long to read: it is read whole again at most every
        three read times (the changes poll keeps the states fresh meanwhile; issue 13), however
        often the cheap check sees it move."""
        return self.full_at is not None and \
            self.hub.clock() - self.full_at < 3 * self.full_took

    def _full_due(self) -> bool:
        return (self.full_next or self.mark is None or self.full_at is None
                or self.hub.clock() - self.full_at >= FULL_READ_SECONDS)

    async def _fetch(self, client: AirflowClient) -> Any:
        if not self._full_due():
            mark = await client.dags_mark()
            moved = self.hub.cache.moved
            if (mark == self.mark and len(moved) <= MOVED_MAX) or self._too_soon():
                names = sorted(moved)[:MOVED_MAX]
                moved.difference_update(names)
                dags = []
                for name in names:
                    try:
                        dags.append(await client.get_dag(name))
                    except NotFound:  # deleted (and another added: the count did not move)
                        if not self._too_soon():
                            return await self._full(client)
                return _Quick(dags)
        return await self._full(client)

    async def _full(self, client: AirflowClient) -> tuple[datetime, list[Dag], Window, DagsMark,
                                                           float]:
        started, began = self.hub.now(), self.hub.clock()
        early = self._early_painter() if not self.hub.cache.dags else None
        versions = await client.count_dag_versions()  # (before: a change while reading shows)
        dags, window = await asyncio.gather(
            client.list_dags(on_page=early),
            read_window(client, window=self.hub.settings.runs_window))
        return started, dags, window, DagsMark.of(dags, versions), began

    def _early_painter(self) -> Callable[[list[Dag], int | None], None]:
        """The first read of a list of several pages with nothing to show yet: the first page
        is shown at once, then the pages read so far each time they have doubled (100, 200,
        400, …: every repaint of the growing list costs the event loop, which also reads the
        pages; doubling keeps the rows painted to about twice the list), their last runs
        marked as not read yet. The last page is not: the whole list comes with its runs
        right after."""
        generation = self.poll.state.generation
        seen: dict[str, Dag] = {}
        shown = [0]

        def page(dags: list[Dag], total: int | None) -> None:
            seen.update((d.dag_id, d) for d in dags)
            if self.poll.state.generation != generation or total is None or (
                    len(seen) >= total) or len(seen) < EARLY_PAINT_GROWTH * shown[0]:
                return
            shown[0] = len(seen)
            self.publish(DagsChanged(dict(seen), {}, {}, None, dict.fromkeys(seen),
                                     partial=True))

        return page

    def got(self, data: Any) -> None:
        if isinstance(data, _Quick):
            if self.hub.cache.replace_dags(data.dags):
                self.hub.publish_dags()
            return
        started, dags, window, mark, began = data
        self.mark, self.full_at, self.full_next = mark, began, False
        self.hub.cache.load(dags, window.runs, window.complete, window.states)
        self.full_took = self.poll.last_duration or 0.0  # (see _too_soon)
        self.hub.publish_dags()
        self.hub.dags_loaded(started)
        self.reader.loaded()
        if self.early_want:
            self.reader.want(self.early_want)
            self.early_want = []


class RunsFeed(Feed):
    kind = "runs"
    topic: RunsOf

    def interval(self) -> float | None:
        # fetched on subscribe and when the changes poll sees a new run; the interval is only a
        # safety net
        return self.hub.settings.dags_seconds

    def __init__(self, hub: Hub, topic: RunsOf) -> None:
        super().__init__(hub, topic)
        #: the newest runs read: a page, more on demand (`more`), at most MAX_RUNS_SHOWN
        self.limit = hub.settings.runs_limit

    def fetcher(self, client: AirflowClient) -> Fetch:
        return partial(self._fetch, client)

    async def _fetch(self, client: AirflowClient) -> tuple[list[DagRun], int]:
        # (servers answer at most 100 per page by default: further back, page by page)
        runs, total = await client.list_runs(self.topic.dag_id, limit=min(self.limit, PAGE))
        while len(runs) < min(self.limit, total):
            page, total = await client.list_runs(self.topic.dag_id, offset=len(runs),
                                                 limit=min(self.limit - len(runs), PAGE))
            if not page:
                break
            seen = {r.run_id for r in runs}
            runs += [r for r in page if r.run_id not in seen]
        return runs, total

    def more(self) -> bool:
        """One more page of older runs (the person scrolled to the end); False when all are
        read or the bound is reached. The next reads read that many (a bounded cost)."""
        last = self.last
        total = last.total if isinstance(last, RunsChanged) else 0
        if self.limit >= min(total, MAX_RUNS_SHOWN):
            return False
        self.limit = min(self.limit + self.hub.settings.runs_limit, MAX_RUNS_SHOWN)
        self.poll.poke()
        return True

    def runs(self) -> list[DagRun]:
        last = self.last
        return list(last.runs) if isinstance(last, RunsChanged) else []

    def got(self, data: tuple[list[DagRun], int]) -> None:
        runs, total = data
        if self.hub.cache.note_runs(self.topic.dag_id, runs):
            self.hub.publish_dags()
        self.publish(RunsChanged(self.topic.dag_id, list(runs), total))
        for run in runs:
            self.hub.run_seen(run)

    def runs_seen(self, by_dag: Mapping[str, Sequence[DagRun]], recovered: bool) -> None:
        last = self.last
        if not isinstance(last, RunsChanged):
            return
        if recovered:
            self.deliver(last)  # the data is fresh again
        mine = by_dag.get(self.topic.dag_id, ())
        known = {r.run_id: r for r in last.runs}
        if any(r.run_id not in known for r in mine):
            self.poll.poke()  # a new run: re-read the page (order, total)
            return
        for run in mine:  # known runs changed (a running run's updated_at moves all the time)
            known[run.run_id] = run
        if mine or any(r.state in ACTIVE_RUN_STATES for r in known.values()):
            # new states; running durations move on without a request
            self.publish(RunsChanged(self.topic.dag_id, list(known.values()), last.total))

    def changes_failed(self, error: BaseException) -> None:
        if not self.poll.failures:
            self.deliver(PollFailed("changes", self.topic, error))


class TasksFeed(Feed):
    kind = "tasks"
    topic: TasksOf
    run_state: str | None = None  # the run's state as last seen

    def interval(self) -> float | None:
        return self.hub.settings.tasks_seconds

    def _interval_for(self, run: DagRun | None) -> float | None:
        if run is not None and run.state is not None and run.state not in ACTIVE_RUN_STATES:
            return None  # a finished run's tasks are fetched once
        return self.hub.settings.tasks_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        return partial(client.list_task_instances, self.topic.dag_id, self.topic.run_id)

    def start(self, client: AirflowClient, delay: float) -> None:
        run = self.hub.run(self.topic.dag_id, self.topic.run_id)
        self.run_state = run.state if run is not None else None
        self.poll.retarget(self.fetcher(client), delay=delay, interval=self._interval_for(run))
        self.sync_pause()

    def run_changed(self, run: DagRun) -> None:
        if (run.dag_id, run.run_id) != (self.topic.dag_id, self.topic.run_id) or \
                run.state == self.run_state:
            return
        self.run_state = run.state
        interval = self._interval_for(run)
        if interval != self.poll.interval or run.state not in ACTIVE_RUN_STATES:
            self.poll.set_interval(interval)
            self.poll.poke()  # the run changed state: fetch its tasks now

    def got(self, tis: list[TaskInstance]) -> None:
        topic = self.topic
        event = TasksChanged(topic.dag_id, topic.run_id, list(tis))
        self.last = event
        self.hub.tis_seen(tis)
        run = self.hub.run(topic.dag_id, topic.run_id)
        over = run is not None and run.state is not None and run.state not in ACTIVE_RUN_STATES
        if tis and all(t.finished for t in tis) and (over or run is None):
            # Over (or, with nothing telling the run's state, every task is): read once more
            # only when the changes poll sees the run change again.
            self.poll.set_interval(None)
        self.deliver(event)


class LogSubscription(Subscription):
    """A log follower's handle: the reader behind it, and `f` (stop or resume new lines)."""

    feed: LogFeed

    @property
    def follower(self) -> LogFollower | None:
        """The reader of the try (its try number, mode and counters)."""
        return self.feed.follower

    def set_following(self, on: bool) -> None:
        self.feed.set_following(on)


class LogFeed(Feed):
    """Per subscriber (each has its own sink and view state)."""

    kind = "log"
    topic: LogOf

    def __init__(self, hub: Hub, topic: LogOf, sink: LogSink, raw: bool = False) -> None:
        super().__init__(hub, topic)
        self.sink = sink
        self.raw = raw  # the sink takes Airflow 3's entries as decoded (LogFollower.raw_entries)
        self.follower: LogFollower | None = None

    def interval(self) -> float | None:
        return self.hub.settings.log_seconds

    def fetcher(self, client: AirflowClient) -> Fetch:
        topic = self.topic
        self.follower = LogFollower(client, topic.dag_id, topic.run_id, topic.task_id,
                                    topic.try_number, topic.map_index,
                                    interval=self.hub.settings.log_seconds,
                                    raw_entries=self.raw)
        return partial(self._fetch, self.follower)

    async def _fetch(self, follower: LogFollower) -> Any:
        loop = asyncio.get_running_loop()
        generation = self.poll.state.generation

        def emit(piece: Any) -> None:  # in the worker thread
            loop.call_soon_threadsafe(self._piece, generation, piece)

        return await follower.poll_with(lambda lines: self.sink(lines, emit), thread=True)

    def _event(self, data: Any, partial_read: bool) -> LogRead:
        follower = self.follower
        assert follower is not None
        return LogRead(self.topic, data, partial_read, follower.finished and not partial_read,
                       follower.try_number, follower.ti)

    def _piece(self, generation: int, piece: Any) -> None:
        if self.poll.state.generation == generation and self.subs:
            self.deliver(self._event(piece, True))

    def got(self, data: Any) -> None:
        follower = self.follower
        if follower is not None and follower.finished:
            self.poll.set_interval(None)
        self.deliver(self._event(data, False))

    def tis_seen(self, tis: Mapping[tuple[str, int], TaskInstance]) -> None:
        """Its run's task instances as the tasks poll read them: its follower need not read
        its own task instance (a request per read saved)."""
        topic, follower = self.topic, self.follower
        ti = tis.get((topic.task_id, topic.map_index))
        if ti is not None and follower is not None:
            follower.hand_over(ti)

    def set_following(self, on: bool) -> None:
        """Stop or resume reading new lines."""
        if on:
            self.poll.set_interval(self.hub.settings.log_seconds)
            self.poll.poke()
        else:
            self.poll.set_interval(None)
