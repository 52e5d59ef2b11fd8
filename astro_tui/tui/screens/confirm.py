"""Confirmation modals: a question with a few answers, and the clear dialog with its dry run.

Every string that came from the server reaches these screens as a ``rich.text.Text`` built with
``safe_text`` by the caller, or goes through ``safe_text`` here: nothing is parsed as markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static
from textual.widgets.button import ButtonVariant

from astro_tui.airflow.errors import Forbidden
from astro_tui.airflow.models import TaskInstance
from astro_tui.present.errors import error_message
from astro_tui.present.labels import ti_label
from astro_tui.text import safe_text

MODAL_CSS = """
    align: center middle;
    & > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 90%;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    & .title { text-style: bold; height: auto; margin-bottom: 1; }
    & .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    & .buttons Button { margin-left: 2; }
    & .problem { color: $error; height: auto; display: none; }
    & .problem.shown { display: block; }
"""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    key: str  # a single key that picks this answer
    variant: ButtonVariant = "default"




class FinishingModal(ModalScreen):
    """A modal whose worker may finish while another screen (help, a question) is on top of
    it: the result is then kept and delivered when the modal is back on top."""

    _pending: tuple[Any] | None = None

    def finish(self, result: Any) -> None:
        if self.app.screen is self:
            self.dismiss(result)
        else:
            self._pending = (result,)

    def on_screen_resume(self) -> None:
        if self._pending is not None:
            (result,), self._pending = self._pending, None
            self.call_later(self.dismiss, result)


class ConfirmScreen(ModalScreen[str | None]):
    """Asks `message`; dismisses with the value of the chosen answer, or None on Esc."""

    DEFAULT_CSS = "ConfirmScreen {" + MODAL_CSS + "}"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: Text | str, message: Text | str, choices: Sequence[Choice]) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title)
        self.message = message if isinstance(message, Text) else Text(message)
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            yield Static(self.message)
            with Horizontal(classes="buttons"):
                for c in self.choices:
                    yield Button(Text(f"{c.label} ({c.key})"), id=f"choice-{c.value}",
                                 variant=c.variant, compact=True)

    def on_mount(self) -> None:
        self.query(Button).last().focus()

    def on_key(self, event: events.Key) -> None:
        for c in self.choices:
            if event.key == c.key:
                event.stop()
                self.dismiss(c.value)
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Option:
    name: str
    label: str
    key: str
    value: bool = False


Preview = Callable[[dict[str, bool]], Awaitable[list[TaskInstance]]]
Apply = Callable[[dict[str, bool]], Awaitable[Any]]


class ClearScreen(FinishingModal):
    """Clear with a dry run first: every change of an option lists the affected task instances
    again; `y` clears them for real. Dismisses with how many were listed, or None."""

    DEFAULT_CSS = "ClearScreen {" + MODAL_CSS + """
        & #preview { height: auto; max-height: 14; border: round $panel-lighten-2; }
        & .options { height: auto; }
        & .options Checkbox { margin-right: 2; }
    }"""
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "apply", "Clear"),
    ]

    def __init__(self, title: Text, options: Sequence[Option], preview: Preview, apply: Apply,
                 on_forbidden: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.preview, self.apply = preview, apply
        self.on_forbidden = on_forbidden
        self.affected: list[TaskInstance] | None = None
        self.busy = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="title")
            with Horizontal(classes="options"):
                for o in self.options:
                    yield Checkbox(Text(f"{o.label} ({o.key})"), o.value, id=f"opt-{o.name}",
                                   compact=True)
            with VerticalScroll(id="preview"):
                yield Static(Text("◌ dry run…", style="dim"), id="preview-list")
            yield Static("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(Text("Cancel (Esc)"), id="cancel", compact=True)
                yield Button(Text("Clear (y)"), id="apply", variant="error", compact=True,
                             disabled=True)

    def on_mount(self) -> None:
        self.query_one("#preview").border_title = "Dry run: task instances to clear"
        self.query_one("#cancel").focus()
        self.refresh_preview()

    @property
    def values(self) -> dict[str, bool]:
        return {o.name: self.query_one(f"#opt-{o.name}", Checkbox).value for o in self.options}

    def on_key(self, event: events.Key) -> None:
        for o in self.options:
            if event.key == o.key and not self.busy:
                event.stop()
                box = self.query_one(f"#opt-{o.name}", Checkbox)
                box.value = not box.value

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.refresh_preview()

    def refresh_preview(self) -> None:
        self._generation += 1
        self.affected = None
        self._sync_apply()
        self.query_one("#preview-list", Static).update(Text("◌ dry run…", style="dim"))
        self.run_worker(self._dry_run(self._generation, self.values), group="preview",
                        exclusive=True, exit_on_error=False)

    async def _dry_run(self, generation: int, values: dict[str, bool]) -> None:
        try:
            tis = await self.preview(values)
        except Exception as err:  # noqa: BLE001 - shown, never a crash
            if generation == self._generation:
                self._problem(err, "dry run failed")
                self.query_one("#preview-list", Static).update(Text("(no preview)", style="dim"))
            return
        if generation != self._generation:
            return
        self.affected = sorted(tis, key=lambda t: (t.task_id, t.map_index))
        self.query_one("#problem", Static).remove_class("shown")
        self.query_one("#preview-list", Static).update(ti_list(tis))
        self._sync_apply()

    def _sync_apply(self) -> None:
        button = self.query_one("#apply", Button)
        n = len(self.affected or [])
        button.label = Text(f"Clear {n} (y)" if self.affected is not None else "Clear (y)")
        button.disabled = self.busy or not n

    def _problem(self, err: BaseException, what: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(safe_text(f"✖ {what}: {error_message(err)}"))
        problem.add_class("shown")
        if isinstance(err, Forbidden) and self.on_forbidden is not None:
            self.on_forbidden()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def action_apply(self) -> None:
        if self.busy or not self.affected:
            return
        self.busy = True
        self._sync_apply()
        self.run_worker(self._apply(self.values, len(self.affected)), group="apply",
                        exit_on_error=False)

    async def _apply(self, values: dict[str, bool], count: int) -> None:
        try:
            await self.apply(values)
        except Exception as err:  # noqa: BLE001 - shown in the modal; a write is never retried
            self.busy = False
            self._problem(err, "clear failed")
            self._sync_apply()
            return
        self.finish(count)


def ti_list(tis: Sequence[TaskInstance]) -> Text:
    if not tis:
        return Text("nothing to clear with these options", style="dim")
    text = Text()
    for i, ti in enumerate(tis):
        if i:
            text.append("\n")
        text.append_text(safe_text(ti_label(ti), newline=" ", max_len=66))
        if ti.state:
            text.append("  ")
            text.append_text(safe_text(ti.state, style="dim", max_len=20))
    return text
