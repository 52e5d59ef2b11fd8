"""Actions on the selected DAG, run or task (trigger, pause, clear, mark), as a base class of the
main screen. Every write is confirmed, never retried, and hidden in read-only mode.

Keys: `t` trigger (on the DAGs pane: the DAG's param defaults; on a run: that run's conf), `p`
pause/unpause the DAG, `c` clear the selected task instance (tasks/log pane) or run (runs pane)
after a dry run, `m` mark it success or failed. HTTP runs in workers; a 403 turns the action off
for the session ("your token cannot do this").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from astro_tui.airflow.errors import Forbidden
from astro_tui.history import ConfHistory
from astro_tui.present.errors import FORBIDDEN, error_message
from astro_tui.present.labels import ti_label
from astro_tui.text import escape_markup, safe_text
from astro_tui.tui.actions import BY_ID, WRITE_DETAILS, is_write, write_actions
from astro_tui.tui.screens.confirm import Choice, ClearScreen, ConfirmScreen, Option
from astro_tui.tui.screens.trigger import TriggerOutcome, TriggerScreen

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient
    from astro_tui.airflow.models import DagRun, TaskInstance

class ActionCommands(Provider):
    """Command palette entries for the write actions; none at all in read-only mode."""

    async def search(self, query: str) -> Hits:
        screen = self.screen
        if not isinstance(screen, ActionsScreen) or getattr(self.app, "read_only", True):
            return
        matcher = self.matcher(query)
        for action in write_actions():
            if action.id in screen.forbidden:
                continue
            score = matcher.match(action.palette)
            if score > 0:
                yield Hit(score, matcher.highlight(action.palette),
                          partial(screen.run_action, action.id),
                          help=f"{action.label}: {WRITE_DETAILS[action.id]}")

    async def discover(self) -> Hits:
        async for hit in self.search(""):
            yield hit


class ActionsScreen(Screen):
    """Base of MainScreen: bindings and actions that change Airflow live here.

    Uses MainScreen's state: client, dags, runs, tis, dag_id, run_id, task_key, active, polls,
    show_run()."""

    COMMANDS = {ActionCommands}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: actions the server answered 403 to: greyed out for the rest of the session
        self.forbidden: set[str] = set()

    # -- availability --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if is_write(action):
            if self.app.read_only:  # type: ignore[attr-defined]
                return False  # hidden, and the key does nothing
            if action in self.forbidden:
                return None  # shown greyed out
        return super().check_action(action, parameters)

    def _allowed(self, action: str) -> bool:
        """The action methods refuse too (the palette or a test may call them directly)."""
        if self.app.read_only:  # type: ignore[attr-defined]
            self.notify("Read-only mode: nothing can be changed.", severity="warning")
            return False
        if action in self.forbidden:
            self.notify(f"{FORBIDDEN.capitalize()} ({action}).", severity="warning")
            return False
        if self.client is None:  # type: ignore[attr-defined]
            self.notify("Not connected yet.", severity="warning")
            return False
        return True

    def forbid(self, action: str, err: BaseException | None = None, *, quiet: bool = False) -> None:
        """A 403: grey the action out for the session."""
        self.forbidden.add(action)
        self.refresh_bindings()
        if not quiet:
            detail = f" ({err.message})" if isinstance(err, Forbidden) else ""
            key = BY_ID[action].label if action in BY_ID else action
            self.notify(escape_markup(f"{FORBIDDEN.capitalize()}{detail}: `{key}` is now off "
                                      "for this session."), severity="error", timeout=8)

    def _write(self, action: str, what: str, call: Callable[[], Awaitable[Any]],
               done: Callable[[Any], None]) -> None:
        """Run one write in a worker: never retried; errors become messages."""

        async def job() -> None:
            try:
                result = await call()
            except Forbidden as err:
                self.forbid(action, err)
            except Exception as err:  # noqa: BLE001 - a message, never a crash
                self.notify(escape_markup(f"{what} failed: {error_message(err)}"), severity="error",
                            timeout=8)
            else:
                done(result)

        self.run_worker(job(), group=f"action-{action}", exit_on_error=False)

    def _refresh_panes(self, *names: str) -> None:
        self.watcher.refresh(*names)  # type: ignore[attr-defined]

    # -- selection helpers ---------------------------------------------------------------------

    def _selected_ti(self) -> TaskInstance | None:
        if getattr(self, "active", "") not in ("tasks", "log"):
            return None
        key = getattr(self, "task_key", None)
        return self.tis.get(key) if key else None  # type: ignore[attr-defined]

    def _selected_run(self) -> DagRun | None:
        run_id = getattr(self, "run_id", None)
        return self.runs.get(run_id) if run_id else None  # type: ignore[attr-defined]

    # -- t: trigger ----------------------------------------------------------------------------

    def action_trigger(self) -> None:
        if not self._allowed("trigger"):
            return
        client: AirflowClient = self.client  # type: ignore[attr-defined]
        dag_id = getattr(self, "dag_id", None)
        if dag_id is None:
            self.notify("Select a DAG first.", severity="warning")
            return
        run = self._selected_run() if getattr(self, "active", "dags") != "dags" else None
        dag = self.dags.get(dag_id)  # type: ignore[attr-defined]
        screen = TriggerScreen(
            client, dag_id, run=run, paused=dag.is_paused if dag else None,
            history=ConfHistory(self.app.profile_name),  # type: ignore[attr-defined]
            on_forbidden=lambda step: self.forbid(step, quiet=True),
            now=self.app.now,  # type: ignore[attr-defined]
        )
        self.app.push_screen(screen, partial(self._triggered, dag_id))

    def _triggered(self, dag_id: str, outcome: TriggerOutcome | None) -> None:
        if outcome is None:
            return
        run_id = outcome.run.run_id
        self.notify(escape_markup(f"Triggered {dag_id}: {run_id}"), timeout=5)
        if outcome.paused:
            self.notify("The DAG is paused: the run stays queued until you unpause it (p).",
                        severity="warning", timeout=8)
        if outcome.unpaused:
            self._refresh_panes("dags")
        self.show_run(dag_id, run_id)  # type: ignore[attr-defined]

    # -- p: pause / unpause --------------------------------------------------------------------

    def action_pause(self) -> None:
        if not self._allowed("pause"):
            return
        dag_id = getattr(self, "dag_id", None)
        dag = self.dags.get(dag_id) if dag_id else None  # type: ignore[attr-defined]
        if dag is None:
            self.notify("Select a DAG first.", severity="warning")
            return
        pause = not dag.is_paused
        verb = "Pause" if pause else "Unpause"
        message = Text(f"{verb} ")
        message.append_text(safe_text(dag_id, style="bold", newline=" ", max_len=80))
        message.append("? " + ("The scheduler stops creating its runs; running tasks finish."
                               if pause else "The scheduler starts its queued and due runs."))
        client: AirflowClient = self.client  # type: ignore[attr-defined]

        def answered(choice: str | None) -> None:
            if choice != "yes":
                return

            def done(_: Any) -> None:
                self.notify(escape_markup(f"{dag_id} {'paused' if pause else 'unpaused'}."))
                self._refresh_panes("dags")

            self._write("pause", f"{verb} {dag_id}",
                        partial(client.set_paused, dag_id, pause), done)

        self.app.push_screen(ConfirmScreen(f"{verb} DAG", message, [
            Choice("no", "Cancel", "n"), Choice("yes", verb, "y", "warning")]), answered)

    # -- c: clear ------------------------------------------------------------------------------

    def action_clear(self) -> None:
        if not self._allowed("clear"):
            return
        client: AirflowClient = self.client  # type: ignore[attr-defined]
        ti = self._selected_ti()
        run = self._selected_run()
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
        elif run is not None and getattr(self, "active", "") == "runs":
            title = Text("Clear run ")
            title.append_text(safe_text(run.run_id, newline=" ", max_len=60))
            title.append(" of ")
            title.append_text(safe_text(run.dag_id, newline=" ", max_len=60))
            options = [Option("only_failed", "only failed", "f", False)]

            def clear(dry_run: bool, v: dict[str, bool]):
                return client.clear_run(run.dag_id, run.run_id, dry_run=dry_run,
                                        only_failed=v["only_failed"])
        else:
            self.notify("Select a run (runs pane) or a task (tasks pane) to clear.",
                        severity="warning")
            return

        def cleared(count: int | None) -> None:
            if count is None:
                return
            self.notify(f"Cleared {count} task instance{'s' if count != 1 else ''}: "
                        "they will run again.")
            self._refresh_panes("runs", "tasks", "changes")

        self.app.push_screen(ClearScreen(
            title, options, partial(clear, True), partial(clear, False),
            on_forbidden=lambda: self.forbid("clear", quiet=True)), cleared)

    # -- m: mark -------------------------------------------------------------------------------

    def action_mark(self) -> None:
        if not self._allowed("mark"):
            return
        client: AirflowClient = self.client  # type: ignore[attr-defined]
        ti = self._selected_ti()
        run = self._selected_run()
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
        elif run is not None and getattr(self, "active", "") == "runs":
            message.append("run ")
            message.append_text(safe_text(run.run_id, style="bold", newline=" ", max_len=60))
            message.append(" of ")
            message.append_text(safe_text(run.dag_id, newline=" ", max_len=60))
            what = f"mark {run.run_id}"

            def call(state: str):
                return client.set_run_state(run.dag_id, run.run_id, state)
        else:
            self.notify("Select a run (runs pane) or a task (tasks pane) to mark.",
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
                self.notify(escape_markup(f"Marked {state}."))
                self._refresh_panes("runs", "tasks", "changes")

            self._write("mark", what, partial(call, state), done)

        self.app.push_screen(ConfirmScreen("Mark", message, [
            Choice("cancel", "Cancel", "n"), Choice("failed", "Failed", "f", "error"),
            Choice("success", "Success", "s", "success")]), answered)

