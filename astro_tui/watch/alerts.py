"""What alerts, for one deployment: the `notify` mode and the person's watches.

`Alerts` listens to a Watcher. A run that ends (`RunEnded`) alerts when the mode wants it
("failures": every run that newly fails; "all": every run that ends) or when the person
watches it, or watches its DAG (the DAG's next run). A watched task alerts when it reaches a
final state; its run's task instances are polled only while such a watch exists. A watch
alerts once, then goes.

Alerts pass the rate limit (notify.Limiter: a burst becomes one summary, and what comes once
the window is full leaves as one summary when it ends), then go to the sink
(the TUI: a toast, a bell and a desktop notification; `astro-tui watch`: a printed line) and to
the optional `notify_command` hook, which reads the alert as JSON on stdin and is killed after
`HOOK_TIMEOUT` seconds. Nothing here blocks the caller. Plain asyncio; no Textual.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from astro_tui.airflow.models import DagRun, TaskInstance
from astro_tui.notify import Alert, Limiter, check_mode, run_alert, wanted
from astro_tui.present.labels import ti_label
from astro_tui.present.states import FINAL_TI_STATES
from astro_tui.text import clean
from astro_tui.watch.events import Event, RunEnded, TasksChanged, TasksOf
from astro_tui.watch.feed import Subscription
from astro_tui.watch.watcher import Watcher

HOOK_TIMEOUT = 10.0
KINDS = ("dag", "run", "task")


@dataclass(frozen=True)
class Watch:
    """"Alert me" on a DAG (its next run that ends), a run, or a task of a run."""

    kind: str  # "dag", "run" or "task"
    dag_id: str
    run_id: str | None = None
    task: str | None = None  # the task's label: task_id, or task_id[map_index]

    def label(self) -> str:
        if self.kind == "dag":
            return self.dag_id
        if self.kind == "run":
            return f"{self.dag_id} › {self.run_id}"
        return f"{self.dag_id} › {self.run_id} › {self.task}"

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "dag_id": self.dag_id, "run_id": self.run_id,
                "task": self.task}

    @classmethod
    def from_json(cls, data: Any) -> Watch:
        """From a session file; ValueError when it is not a watch."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError("not a watch")
        fields = [data.get(k) for k in ("dag_id", "run_id", "task")]
        if not isinstance(fields[0], str) or any(
                f is not None and not isinstance(f, str) for f in fields[1:]):
            raise ValueError("not a watch")
        watch = cls(data["kind"], fields[0], fields[1], fields[2])
        if (watch.kind != "dag" and not watch.run_id) or (watch.kind == "task"
                                                            and not watch.task):
            raise ValueError("not a watch")
        return watch


class Alerts:
    def __init__(self, watcher: Watcher, sink: Callable[[list[Alert]], None], *,
                 mode: str = "off", command: str | None = None, profile: str | None = None,
                 limiter: Limiter | None = None,
                 on_hook_error: Callable[[str], None] | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        """`on_change` is called when the watches change (one added, or gone after alerting)."""
        self.mode = check_mode(mode)
        self._watcher = watcher
        self._sink = sink
        self._command = shlex.split(command) if command else None
        self._profile = profile
        self._limiter = limiter or Limiter()
        self._on_hook_error = on_hook_error
        self.on_change = on_change
        self.watches: list[Watch] = []
        self._since: dict[Watch, datetime] = {}  # a DAG watch: runs that end after this
        self._tasks: dict[Watch, Subscription] = {}
        self._unlisten: Callable[[], None] | None = None
        self._hooks: set[asyncio.Task[None]] = set()
        self._flush: asyncio.TimerHandle | None = None
        self._batch: list[Alert] = []

    # -- life ----------------------------------------------------------------------------------

    def start(self, watches: Iterable[Watch] = ()) -> None:
        self._unlisten = self._watcher.listen(self._event)
        for watch in watches:
            self.add(watch)

    async def aclose(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for sub in self._tasks.values():
            sub.close()
        self._tasks.clear()
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        for task in list(self._hooks):
            task.cancel()
        if self._hooks:
            await asyncio.gather(*self._hooks, return_exceptions=True)

    # -- watches -------------------------------------------------------------------------------

    def watching(self, watch: Watch) -> bool:
        return watch in self.watches

    def add(self, watch: Watch) -> None:
        if watch in self.watches:
            return
        self.watches.append(watch)
        self._since[watch] = self._watcher.now()
        if watch.kind == "task" and watch.run_id is not None:
            self._tasks[watch] = self._watcher.subscribe(TasksOf(watch.dag_id, watch.run_id),
                                                         self._event)
        self._changed()

    def remove(self, watch: Watch) -> None:
        if watch not in self.watches:
            return
        self.watches.remove(watch)
        self._since.pop(watch, None)
        sub = self._tasks.pop(watch, None)
        if sub is not None:
            sub.close()
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def toggle(self, watch: Watch) -> bool:
        """Watch it, or stop watching it; whether it is watched now."""
        if watch in self.watches:
            self.remove(watch)
            return False
        self.add(watch)
        return True

    def marks(self) -> tuple[set[str], set[tuple[str, str]], set[tuple[str, str, str]]]:
        """(DAG ids, (dag, run), (dag, run, task)) watched: for marking the lists."""
        dags = {w.dag_id for w in self.watches if w.kind == "dag"}
        runs = {(w.dag_id, w.run_id or "") for w in self.watches if w.kind == "run"}
        tasks = {(w.dag_id, w.run_id or "", w.task or "") for w in self.watches
                 if w.kind == "task"}
        return dags, runs, tasks

    # -- events --------------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        if isinstance(event, RunEnded):
            self._run_ended(event.run)
        elif isinstance(event, TasksChanged):
            self._tasks_seen(event.dag_id, event.run_id, event.tis)

    def _run_ended(self, run: DagRun) -> None:
        watched: str | None = None
        for watch in list(self.watches):
            if watch.dag_id != run.dag_id:
                continue
            if watch.kind == "run" and watch.run_id == run.run_id:
                watched = "run"
                self.remove(watch)
            elif watch.kind == "dag" and self._ended_after(run, watch):
                watched = watched or "dag"
                self.remove(watch)
        if watched is not None or wanted(run, self.mode):
            self._queue(run_alert(run, watched))

    def _ended_after(self, run: DagRun, watch: Watch) -> bool:
        since = self._since.get(watch)
        return since is None or run.end_date is None or run.end_date >= since

    def _tasks_seen(self, dag_id: str, run_id: str, tis: Iterable[TaskInstance]) -> None:
        by_label = {ti_label(ti): ti for ti in tis}
        for watch in list(self.watches):
            if watch.kind != "task" or (watch.dag_id, watch.run_id) != (dag_id, run_id):
                continue
            ti = by_label.get(watch.task or "")
            if ti is None or ti.state not in FINAL_TI_STATES:
                continue
            self.remove(watch)
            title = clean(f"{watch.task}: {ti.state}", 120, newline=" ")
            body = clean(f"{dag_id} › {run_id}", 200, newline=" ")
            run = self._watcher.run(dag_id, run_id) or DagRun(dag_id=dag_id, run_id=run_id)
            self._queue(Alert(title, body, run, task=watch.task, state=ti.state,
                              watched="task"))

    # -- sending -------------------------------------------------------------------------------

    @property
    def hooks_running(self) -> int:
        return len(self._hooks)

    def _queue(self, alert: Alert) -> None:
        """Runs that end in one poll are sent together (a burst is one summary)."""
        self._batch.append(alert)
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._send_batch)

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        self.send(batch)

    def send(self, alerts: list[Alert]) -> None:
        self._deliver(self._limiter.offer(alerts))
        if self._limiter.pending and self._flush is None:
            # what waits leaves as one summary when the window has room again
            self._flush = asyncio.get_running_loop().call_later(
                self._limiter.wait() + 0.01, self._flushed)

    def _flushed(self) -> None:
        self._flush = None
        self.send([])

    def _deliver(self, passed: list[Alert]) -> None:
        if not passed:
            return
        self._sink(passed)
        if self._command:
            for alert in passed:
                task = asyncio.get_running_loop().create_task(self._hook(alert))
                self._hooks.add(task)
                task.add_done_callback(self._hooks.discard)

    async def _hook(self, alert: Alert) -> None:
        assert self._command is not None
        data = json.dumps(alert.to_json(self._profile)).encode()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        except OSError as exc:
            self._hook_error(f"notify_command could not start: {exc.strerror or exc}")
            return
        try:
            await asyncio.wait_for(proc.communicate(data), HOOK_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self._hook_error(f"notify_command took over {HOOK_TIMEOUT:g} s: stopped")
            return
        except asyncio.CancelledError:
            proc.kill()
            raise
        if proc.returncode:
            self._hook_error(f"notify_command exited with {proc.returncode}")

    def _hook_error(self, text: str) -> None:
        if self._on_hook_error is not None:
            self._on_hook_error(text)
