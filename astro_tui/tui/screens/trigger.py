"""The trigger modal: a JSON conf editor prefilled from the DAG's params (or a run's conf), checked
as you type, with optional logical date, run id and note, and a picker of recent confs.

The user's text is never lost: a server error (400 params, 409 duplicate, 422, 403) is shown inline
and the modal stays open; Esc asks before throwing edits away.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from astro_tui.airflow.errors import ApiError, Forbidden
from astro_tui.airflow.models import DagDetails, DagRun, ParamSpec
from astro_tui.conf import (
    ConfError,
    ConfProblem,
    blocking,
    check_conf,
    describe_schema,
    dump_conf,
    one_line,
    parse_conf,
    parse_logical_date,
)
from astro_tui.history import ConfHistory, HistoryEntry
from astro_tui.present.errors import error_message
from astro_tui.text import escape_markup, safe_text
from astro_tui.tui.actions import BY_ID
from astro_tui.tui.screens.confirm import Choice, ConfirmScreen, FinishingModal

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient


class TriggerOutcome(NamedTuple):
    run: DagRun
    conf: dict[str, Any]
    unpaused: bool
    paused: bool  # the DAG is still paused: the run stays queued


class TriggerScreen(FinishingModal):
    DEFAULT_CSS = """
    TriggerScreen { align: center middle; }
    #trigger-box {
        width: 100%; max-width: 110; height: 100%; max-height: 34;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    #trigger-title { height: 1; text-style: bold; }
    #paused-row { height: auto; display: none; }
    TriggerScreen.paused #paused-row { display: block; }
    #paused-note { color: $warning; height: auto; width: 1fr; }
    #unpause { width: auto; }
    #trigger-body { height: 1fr; }
    #conf { width: 3fr; height: 1fr; }
    #params { width: 2fr; height: 1fr; padding-left: 1; }
    TriggerScreen.narrow #trigger-body { layout: vertical; }
    TriggerScreen.narrow #conf { width: 1fr; }
    TriggerScreen.narrow #params { width: 1fr; height: 4; padding-left: 0; }
    #conf-status { height: auto; max-height: 3; }
    #server-error { height: auto; max-height: 4; color: $error; display: none; }
    #server-error.shown { display: block; }
    #trigger-fields, #trigger-buttons { height: 1; margin-top: 1; }
    #trigger-fields Label { width: auto; padding-right: 1; color: $text-muted; }
    #trigger-fields Input { width: 1fr; margin-right: 1; background: $boost; }
    #history { width: 1fr; }
    #history > SelectCurrent { background: $boost; }
    #trigger-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        BY_ID["submit"].binding(),
        BY_ID["select_all"].binding(),
        BY_ID["reset_conf"].binding(),
        Binding("escape", "cancel", "Cancel"),
        # The app's `q` (quit) must not throw the user's text away from a focused button.
        Binding("q", "cancel", "Cancel", show=False),
    ]
    #: JSON highlighting needs tree-sitter (textual[syntax]); used only when it is installed
    highlight_json: ClassVar[bool] = True

    def __init__(
        self,
        client: AirflowClient,
        dag_id: str,
        *,
        run: DagRun | None = None,
        paused: bool | None = None,
        history: ConfHistory | None = None,
        on_forbidden: Callable[[str], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.dag_id = dag_id
        self.source_run = run
        self.paused = bool(paused)
        self.history = history
        self.on_forbidden = on_forbidden
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.params: dict[str, ParamSpec] = {}
        self.details: DagDetails | None = None
        self.recent: list[HistoryEntry] = []
        self.loaded = False  # the editor has its prefilled text
        self.baseline = ""  # that text: anything else is an edit
        self.busy = False
        self.unpaused = False
        self.conf: dict[str, Any] | None = None
        self.conf_error: ConfError | None = None
        self.date_error: str | None = None
        self.problems: list[ConfProblem] = []  # Airflow's params check (astro_tui.conf)
        self.server_error: str | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        language = "json" if self.highlight_json else None
        editor = TextArea("", id="conf", show_line_numbers=True, read_only=True)
        if language and language in editor.available_languages:
            editor.language = language
        editor.cursor_blink = False
        editor.border_title = "conf (JSON)"
        with Vertical(id="trigger-box"):
            yield Static(self._title(), id="trigger-title")
            with Horizontal(id="paused-row"):
                yield Static(Text("⏸ This DAG is paused: the run will stay queued until it is "
                                  "unpaused."), id="paused-note")
                yield Checkbox(Text("Unpause it"), id="unpause", compact=True)
            with Horizontal(id="trigger-body"):
                yield editor
                with VerticalScroll(id="params"):
                    yield Static(Text("◌ loading params…", style="dim"), id="param-help")
            yield Static(Text(""), id="conf-status")
            yield Static(Text(""), id="server-error")
            with Horizontal(id="trigger-fields"):
                for key, label, hint in (("logical-date", "Logical date", "empty = now"),
                                         ("run-id", "Run id", "automatic"),
                                         ("note", "Note", "optional")):
                    yield Label(label)
                    field = Input(placeholder=hint, id=key, compact=True)
                    field.cursor_blink = False
                    yield field
            with Horizontal(id="trigger-buttons"):
                yield Select([], prompt="Recent confs", id="history", compact=True)
                yield Button(Text("Cancel (Esc)"), id="cancel", compact=True)
                yield Button(Text("Trigger (Ctrl+S)"), id="submit", variant="primary",
                             compact=True, disabled=True)

    def _title(self) -> Text:
        title = Text("Trigger ")
        title.append_text(safe_text(self.dag_id, newline=" ", max_len=60))
        if self.source_run is not None:
            title.append(" · re-run with the conf of ", style="not bold")
            title.append_text(safe_text(self.source_run.run_id, newline=" ", max_len=50))
        return title

    def on_mount(self) -> None:
        self.set_class(self.paused, "paused")
        self.set_class(self.app.size.width < 100, "narrow")
        if self.history is not None:
            try:
                self.recent = self.history.recent(self.dag_id)
            except Exception:  # noqa: BLE001 - history is a convenience, never a failure
                self.recent = []
        if self.source_run is not None:
            self._prefill(self.source_run.conf or {})
        self._fill_picker()
        self.run_worker(self._load_details(), group="details", exit_on_error=False)

    def on_resize(self, event) -> None:
        self.set_class(self.app.size.width < 100, "narrow")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#conf", TextArea)

    # -- loading -------------------------------------------------------------------------------

    async def _load_details(self) -> None:
        try:
            details = await self.client.get_dag_details(self.dag_id)
        except Exception as err:  # noqa: BLE001 - the user can still type a conf
            self.query_one("#param-help", Static).update(
                safe_text(f"params unavailable: {error_message(err)}", style="yellow"))
            if not self.loaded:
                self._prefill({})
            return
        self.details = details
        self.params = dict(details.params)
        if details.is_paused is not None and not self.unpaused:
            self.paused = details.is_paused
            self.set_class(self.paused, "paused")
        self.query_one("#param-help", Static).update(param_help(self.params))
        if not self.loaded:
            self._prefill(details.default_conf())
        self._fill_picker()
        self._validate()

    def _prefill(self, conf: dict[str, Any]) -> None:
        text = dump_conf(conf)
        editor = self.editor
        editor.load_text(text)
        editor.read_only = False
        self.baseline = text
        self.loaded = True
        editor.focus()
        editor.move_cursor(editor.document.end)
        self._validate()

    def _fill_picker(self) -> None:
        options: list[tuple[Text, str]] = []
        if self.details is not None:
            options.append((Text("DAG defaults: ") + safe_text(
                one_line(self.details.default_conf()), max_len=70), "defaults"))
        if self.source_run is not None:
            options.append((Text("conf of the selected run: ") + safe_text(
                one_line(self.source_run.conf or {}), max_len=60), "run"))
        for i, entry in enumerate(self.recent):
            options.append((safe_text(f"{entry.at[:16].replace('T', ' ')}  "
                                      f"{one_line(entry.conf)}", max_len=90), f"h{i}"))
        self.query_one("#history", Select).set_options(options)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        if not isinstance(value, str) or not self.loaded or self.busy:
            return
        if value == "defaults" and self.details is not None:
            conf = self.details.default_conf()
        elif value == "run" and self.source_run is not None:
            conf = self.source_run.conf or {}
        elif value.startswith("h") and value[1:].isdigit() and int(value[1:]) < len(self.recent):
            conf = self.recent[int(value[1:])].conf
        else:
            return
        self._replace_conf(conf)

    def action_select_all(self) -> None:
        """Ctrl+A: select the whole conf (or the whole focused field), to type over it."""
        focused = self.focused
        if isinstance(focused, Input):
            focused.select_all()
        elif self.loaded:
            self.editor.focus()
            self.editor.select_all()

    def action_reset_conf(self) -> None:
        """Ctrl+R: the params' defaults, as the editor was first filled (undo brings it back)."""
        if not self.loaded or self.busy:
            return
        if self.details is None:
            self.notify("The params are not loaded: nothing to reset to.", severity="warning",
                        timeout=4)
            return
        self._replace_conf(self.details.default_conf())

    def _replace_conf(self, conf: dict[str, Any]) -> None:
        editor = self.editor
        # replace() (not load_text) keeps the previous text in the undo history: Ctrl+Z.
        editor.replace(dump_conf(conf), editor.document.start, editor.document.end)
        editor.focus()
        self.notify("Conf replaced: Ctrl+Z in the editor brings your text back.", timeout=4)

    # -- validation ----------------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.loaded:
            self._validate()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "logical-date":
            self._validate()

    def _validate(self) -> None:
        if not self.loaded:
            return
        self.conf, self.conf_error = parse_conf(self.editor.text)
        self.problems = (check_conf(self.conf, self.params, airflow=self.client.version.as_tuple)
                         if self.conf is not None else [])
        try:
            parse_logical_date(self.query_one("#logical-date", Input).value)
            self.date_error = None
        except ValueError as err:
            self.date_error = str(err)
        self._show_status()

    def _show_status(self) -> None:
        status = Text()
        if self.busy:
            status.append("◌ sending…", style="yellow")
        elif self.conf_error is not None:
            status.append("✖ JSON error at ", style="bold red")
            status.append_text(safe_text(str(self.conf_error), style="red", newline=" "))
        elif self.date_error is not None:
            status.append_text(safe_text(f"✖ {self.date_error}", style="red"))
        elif refused := blocking(self.problems):
            status.append("✖ ", style="bold red")
            shown = "; ".join(map(str, refused[:3])) + (" …" if len(refused) > 3 else "")
            status.append_text(safe_text(shown, style="red", newline=" "))
            status.append(" · the server will refuse this conf", style="dim")
        elif self.problems:
            status.append("⚠ ", style="yellow")
            shown = "; ".join(map(str, self.problems[:3]))
            status.append_text(safe_text(shown, style="yellow", newline=" "))
        else:
            status.append("✔ valid JSON", style="green")
            if self.params:
                status.append(" · matches the params", style="green")
        self.query_one("#conf-status", Static).update(status)
        self.query_one("#submit", Button).disabled = not self.can_submit

    @property
    def can_submit(self) -> bool:
        return (self.loaded and not self.busy and self.conf is not None
                and self.date_error is None)

    @property
    def edited(self) -> bool:
        if self.loaded and self.editor.text != self.baseline:
            return True
        if any(self.query_one(f"#{k}", Input).value for k in ("logical-date", "run-id", "note")):
            return True
        return self.query_one("#unpause", Checkbox).value

    def _show_server_error(self, message: str | None) -> None:
        self.server_error = message
        box = self.query_one("#server-error", Static)
        box.update(safe_text(f"✖ server: {message}", newline=" ") if message else Text(""))
        box.set_class(bool(message), "shown")

    # -- submit / cancel -----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        elif event.button.id == "cancel":
            self.action_cancel()

    def action_submit(self) -> None:
        if self.busy or not self.loaded:
            return
        self._validate()
        if not self.can_submit:
            self.app.bell()
            return
        values = {k: self.query_one(f"#{k}", Input).value.strip()
                  for k in ("logical-date", "run-id", "note")}
        unpause = self.paused and self.query_one("#unpause", Checkbox).value
        self.busy = True
        self._show_status()
        self.run_worker(
            self._submit(dict(self.conf or {}), parse_logical_date(values["logical-date"]),
                         values["run-id"] or None, values["note"] or None, unpause),
            group="submit", exit_on_error=False)

    async def _submit(self, conf: dict[str, Any], logical_date: datetime | None,
                      run_id: str | None, note: str | None, unpause: bool) -> None:
        step = "trigger"
        try:
            if unpause:
                step = "pause"
                await self.client.set_paused(self.dag_id, False)
                self.unpaused, self.paused = True, False
                self.set_class(False, "paused")
                step = "trigger"
            run = await self.client.trigger(self.dag_id, conf, logical_date=logical_date,
                                            run_id=run_id, note=note)
        except Exception as err:  # noqa: BLE001 - shown inline; the text stays; never retried
            self.busy = False
            what = "unpausing failed: " if step == "pause" else ""
            self._show_server_error(what + error_message(err))
            if isinstance(err, Forbidden) and self.on_forbidden is not None:
                self.on_forbidden(step)
            self._show_status()
            if not isinstance(err, ApiError):
                self.log.error("trigger failed", err)
            return
        self._remember(conf)
        self.finish(TriggerOutcome(run, conf, self.unpaused, self.paused))

    def _remember(self, conf: dict[str, Any]) -> None:
        if self.history is None:
            return
        try:
            self.history.add(self.dag_id, conf, self.now())
        except OSError as err:
            self.notify(escape_markup(f"could not save the conf history: {err}"),
                        severity="warning")

    def action_cancel(self) -> None:
        if self.busy:
            self.notify("Waiting for the server's answer…", timeout=2)
            return
        if not self.edited:
            self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == "discard":
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(
            "Discard your edits?",
            "The conf and fields you changed will be lost.",
            [Choice("discard", "Discard", "d", "error"), Choice("keep", "Keep editing", "k")],
        ), answered)


def param_help(params: dict[str, ParamSpec]) -> Text:
    """The params panel: name, type summary and description of each param (all sanitized)."""
    if not params:
        return Text("This DAG declares no params: any JSON object is a valid conf.", style="dim")
    text = Text()
    for i, (name, spec) in enumerate(params.items()):
        if i:
            text.append("\n")
        text.append_text(safe_text(name, style="bold", newline=" ", max_len=40))
        text.append("  ")
        text.append_text(safe_text(describe_schema(spec.schema), style="cyan", newline=" ",
                                   max_len=60))
        if spec.description:
            text.append("\n  ")
            text.append_text(safe_text(spec.description, style="dim", newline=" ", max_len=200))
    return text
