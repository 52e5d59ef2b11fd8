"""The actions that change Airflow (trigger, pause, clear, mark): each is confirmed, never
retried, and hidden in read-only mode.

Keys (tui/actions.py): `t` trigger (on the DAGs pane: the DAG's param defaults; on a run: that
run's conf), `p` pause/unpause the DAG, `c` clear the selected task instance (tasks/log pane) or
run (runs pane) after a dry run, `m` mark it success or failed. HTTP runs in workers of the
screen; a 403 turns the action off for the session ("your token cannot do this").

The screen says what is selected with a `Target`; nothing here reads the screen's state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rich.text import Text
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import Forbidden
from astro_tui.airflow.models import Dag, DagRun, TaskInstance
from astro_tui.history import ConfHistory
from astro_tui.present.errors import FORBIDDEN, error_message
from astro_tui.present.labels import ti_label
from astro_tui.text import escape_markup, safe_text
from astro_tui.tui.actions import BY_ID, WRITE_DETAILS, is_write, write_actions
from astro_tui.tui.context import UiContext
from astro_tui.watch.watcher import Watcher

if TYPE_CHECKING:  # the dialogs are imported when first opened (a faster first paint)
    from astro_tui.tui.screens.trigger import TriggerOutcome


@dataclass(frozen=True)
class Target:
    """What an action acts on: the focused pane and the selection."""

    pane: str  # "dags", "runs", "tasks" or "log"
    dag_id: str | None
    dag: Dag | None
    run: DagRun | None
    ti: TaskInstance | None


@runtime_checkable
class HasWrites(Protocol):
    """A screen that offers the write actions (for the palette)."""

    writes: WriteActions

    def action_write(self, action: str) -> None: ...


class ActionCommands(Provider):
    """Command palette entries for the write actions; none at all in read-only mode."""

    async def search(self, query: str) -> Hits:
        screen = self.screen
        if not isinstance(screen, HasWrites) or screen.writes.read_only:
            return
        matcher = self.matcher(query)
        for action in write_actions():
            if action.id in screen.writes.forbidden:
                continue
            score = matcher.match(action.palette)
            if score > 0:
                yield Hit(score, matcher.highlight(action.palette),
                          partial(screen.action_write, action.id),
                          help=f"{action.label}: {WRITE_DETAILS[action.id]}")

    async def discover(self) -> Hits:
        async for hit in self.search(""):
            yield hit


class WriteActions:
    def __init__(self, screen: Screen[Any], watcher: Watcher, ctx: UiContext,
                 show_run: Callable[[str, str], None]) -> None:
        self._screen = screen
        self._watcher = watcher
        self._ctx = ctx
        self._show_run = show_run
        #: actions the server answered 403 to: greyed out for the rest of the session
        self.forbidden: set[str] = set()

    @property
    def read_only(self) -> bool:
        return self._ctx.read_only

    # -- availability --------------------------------------------------------------------------

    def check(self, action: str) -> bool | None:
        """For `Screen.check_action`: False hides a write (read-only), None greys it out (403),
        True otherwise."""
        if is_write(action):
            if self._ctx.read_only:
                return False  # hidden, and the key does nothing
            if action in self.forbidden:
                return None  # shown greyed out
        return True

    def allowed(self, action: str) -> bool:
        """The actions refuse too (the palette or a test may call them directly)."""
        if self._ctx.read_only:
            self._screen.notify("Read-only mode: nothing can be changed.", severity="warning")
            return False
        if action in self.forbidden:
            self._screen.notify(f"{FORBIDDEN.capitalize()} ({action}).", severity="warning")
            return False
        if self._watcher.client is None:
            self._screen.notify("Not connected yet.", severity="warning")
            return False
        return True

    def run(self, action: str, target: Target) -> None:
        """Run a write action (after the read-only and 403 checks)."""
        if not self.allowed(action):
            return
        if action == "trigger":
            self._trigger(target)
        elif action == "pause":
            self._pause(target)
        elif action == "clear":
            self._clear(target)
        elif action == "mark":
            self._mark(target)

    def _client(self) -> AirflowClient:
        client = self._watcher.client
        assert client is not None  # allowed() checked it
        return client

    def forbid(self, action: str, err: BaseException | None = None, *, quiet: bool = False) -> None:
        """A 403: grey the action out for the session."""
        self.forbidden.add(action)
        self._screen.refresh_bindings()
        if not quiet:
            detail = f" ({err.message})" if isinstance(err, Forbidden) else ""
            key = BY_ID[action].label if action in BY_ID else action
            self._screen.notify(escape_markup(f"{FORBIDDEN.capitalize()}{detail}: `{key}` is now "
                                              "off for this session."), severity="error",
                                timeout=8)

    def _write(self, action: str, what: str, call: Callable[[], Awaitable[Any]],
               done: Callable[[Any], None]) -> None:
        """Run one write in a worker: never retried; errors become messages."""

        async def job() -> None:
            try:
                result = await call()
            except Forbidden as err:
                self.forbid(action, err)
            except Exception as err:  # noqa: BLE001 - a message, never a crash
                self._screen.notify(escape_markup(f"{what} failed: {error_message(err)}"),
                                    severity="error", timeout=8)
            else:
                done(result)

        self._screen.run_worker(job(), group=f"action-{action}", exit_on_error=False)

    # -- t: trigger ----------------------------------------------------------------------------

    def _trigger(self, target: Target) -> None:
        client = self._client()
        dag_id = target.dag_id
        if dag_id is None:
            self._screen.notify("Select a DAG first.", severity="warning")
            return
        run = target.run if target.pane != "dags" else None
        dag = target.dag
        from astro_tui.tui.screens.trigger import TriggerScreen

        screen = TriggerScreen(
            client, dag_id, run=run, paused=dag.is_paused if dag else None,
            history=ConfHistory(self._ctx.profile_name),
            on_forbidden=lambda step: self.forbid(step, quiet=True),
            now=self._ctx.now,
        )
        self._screen.app.push_screen(screen, partial(self._triggered, dag_id))

    def _triggered(self, dag_id: str, outcome: TriggerOutcome | None) -> None:
        if outcome is None:
            return
        run_id = outcome.run.run_id
        self._screen.notify(escape_markup(f"Triggered {dag_id}: {run_id}"), timeout=5)
        if outcome.paused:
            self._screen.notify("The DAG is paused: the run stays queued until you unpause it (p).",
                        severity="warning", timeout=8)
        if outcome.unpaused:
            self._watcher.refresh("dags")
        self._show_run(dag_id, run_id)

    # -- p: pause / unpause --------------------------------------------------------------------

    def _pause(self, target: Target) -> None:
        dag = target.dag
        if dag is None:
            self._screen.notify("Select a DAG first.", severity="warning")
            return
        dag_id = dag.dag_id
        pause = not dag.is_paused
        verb = "Pause" if pause else "Unpause"
        message = Text(f"{verb} ")
        message.append_text(safe_text(dag_id, style="bold", newline=" ", max_len=80))
        message.append("? " + ("The scheduler stops creating its runs; running tasks finish."
                               if pause else "The scheduler starts its queued and due runs."))
        client = self._client()

        def answered(choice: str | None) -> None:
            if choice != "yes":
                return

            def done(_: Any) -> None:
                self._screen.notify(escape_markup(f"{dag_id} {'paused' if pause else 'unpaused'}."))
                self._watcher.refresh("dags")

            self._write("pause", f"{verb} {dag_id}",
                        partial(client.set_paused, dag_id, pause), done)

        from astro_tui.tui.screens.confirm import Choice, ConfirmScreen

        self._screen.app.push_screen(ConfirmScreen(f"{verb} DAG", message, [
            Choice("no", "Cancel", "n"), Choice("yes", verb, "y", "warning")]), answered)

    # -- c: clear ------------------------------------------------------------------------------

    def _clear(self, target: Target) -> None:
        from astro_tui.tui.screens.confirm import ClearScreen, Option

        client = self._client()
        ti = target.ti if target.pane in ("tasks", "log") else None
        run = target.run
        if ti is not None:
            title = Text("Clear task ")
            title.append_text(safe_text(ti_label(ti), newline=" ", max_len=60))
            title.append(" of run ")
            title.append_text(safe_text(ti.run_id, newline=" ", max_len=60))
            options = [Option("downstream", "downstream", "d", True),
                       Option("upstream", "upstream", "u", False),
                       Option("only_failed", "only failed", "f", False)]

            def clear(dry_run: bool, v: dict[str, bool]):
                return client.clear_task_instances(
                    ti.dag_id, ti.run_id, [ti.task_id], dry_run=dry_run,
                    include_downstream=v["downstream"], include_upstream=v["upstream"],
                    only_failed=v["only_failed"])
        elif run is not None and target.pane == "runs":
            title = Text("Clear run ")
            title.append_text(safe_text(run.run_id, newline=" ", max_len=60))
            title.append(" of ")
            title.append_text(safe_text(run.dag_id, newline=" ", max_len=60))
            options = [Option("only_failed", "only failed", "f", False)]

            def clear(dry_run: bool, v: dict[str, bool]):
                return client.clear_run(run.dag_id, run.run_id, dry_run=dry_run,
                                        only_failed=v["only_failed"])
        else:
            self._screen.notify("Select a run (runs pane) or a task (tasks pane) to clear.",
                        severity="warning")
            return

        def cleared(count: int | None) -> None:
            if count is None:
                return
            self._screen.notify(f"Cleared {count} task instance{'s' if count != 1 else ''}: "
                        "they will run again.")
            self._watcher.refresh("runs", "tasks", "changes")

        self._screen.app.push_screen(ClearScreen(
            title, options, partial(clear, True), partial(clear, False),
            on_forbidden=lambda: self.forbid("clear", quiet=True)), cleared)

    # -- m: mark -------------------------------------------------------------------------------

    def _mark(self, target: Target) -> None:
        client = self._client()
        ti = target.ti if target.pane in ("tasks", "log") else None
        run = target.run
        message = Text("Mark ")
        if ti is not None:
            message.append("task ")
            message.append_text(safe_text(ti_label(ti), style="bold", newline=" ", max_len=60))
            message.append(" of run ")
            message.append_text(safe_text(ti.run_id, newline=" ", max_len=60))
            what = f"mark {ti_label(ti)}"

            def call(state: str):
                return client.set_task_state(ti.dag_id, ti.run_id, ti.task_id, state,
                                             ti.map_index)
        elif run is not None and target.pane == "runs":
            message.append("run ")
            message.append_text(safe_text(run.run_id, style="bold", newline=" ", max_len=60))
            message.append(" of ")
            message.append_text(safe_text(run.dag_id, newline=" ", max_len=60))
            what = f"mark {run.run_id}"

            def call(state: str):
                return client.set_run_state(run.dag_id, run.run_id, state)
        else:
            self._screen.notify("Select a run (runs pane) or a task (tasks pane) to mark.",
                        severity="warning")
            return
        current = ti.state if ti is not None else run.state if run is not None else None
        message.append(" (now ")
        message.append_text(safe_text(current or "no state", newline=" ", max_len=20))
        message.append(") as:")

        def answered(state: str | None) -> None:
            if state not in ("success", "failed"):
                return

            def done(_: Any) -> None:
                self._screen.notify(escape_markup(f"Marked {state}."))
                self._watcher.refresh("runs", "tasks", "changes")

            self._write("mark", what, partial(call, state), done)

        from astro_tui.tui.screens.confirm import Choice, ConfirmScreen

        self._screen.app.push_screen(ConfirmScreen("Mark", message, [
            Choice("cancel", "Cancel", "n"), Choice("failed", "Failed", "f", "error"),
            Choice("success", "Success", "s", "success")]), answered)

