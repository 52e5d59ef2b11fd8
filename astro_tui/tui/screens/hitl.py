"""Enter on a request in the overview's inbox: answer a task that waits for a person (Airflow
3.1+ human-in-the-loop).

Shows the request (subject, body, the options, the params with their defaults) and sends the
answer with Ctrl+S. The answer is checked first as the CLI checks it (an option offered; one
option unless several are allowed; params as a JSON object with only the request's keys), and
sent once, never retried. A refusal (already answered, not an assigned user) is one line here;
what was chosen and typed stays.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import SelectionList, Static, TextArea

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import ApiError
from astro_tui.airflow.models import HitlDetail
from astro_tui.conf import parse_conf
from astro_tui.present.errors import error_message
from astro_tui.present.labels import task_label
from astro_tui.text import clean, safe_text
from astro_tui.tui.actions import BY_ID
from astro_tui.tui.screens.confirm import MODAL_CSS, FinishingModal


def check_answer(detail: HitlDetail, chosen: list[str], params_text: str | None,
                 ) -> tuple[dict[str, Any], str | None]:
    """(params_input, problem): what to send, or the one-line reason not to."""
    if not chosen:
        return {}, "choose an option (Space)"
    if len(chosen) > 1 and not detail.multiple:
        return {}, "this request takes one option"
    values = {name: spec.value for name, spec in detail.params.items()}
    if params_text is not None and params_text.strip():
        given, error = parse_conf(params_text)
        if error is not None:
            return {}, f"params: {error}"
        unknown = sorted(set(given or {}) - set(detail.params))
        if unknown:
            return {}, f"params: the request has no param {clean(unknown[0], 60, newline=' ')!r}"
        values.update(given or {})
    return values, None


class HitlScreen(FinishingModal):
    """Dismisses with True once answered, None when closed."""

    DEFAULT_CSS = "HitlScreen {" + MODAL_CSS + "} HitlScreen TextArea { height: 8; }" \
        " HitlScreen SelectionList { height: auto; max-height: 10; }" \
        " HitlScreen .body { height: auto; max-height: 12; }"
    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding(BY_ID["submit"].keys, "send", "Send", priority=True),
    ]

    def __init__(self, client: AirflowClient | None, detail: HitlDetail,
                 read_only: bool) -> None:
        super().__init__()
        self.client = client
        self.detail = detail
        self.read_only = read_only
        self.sending = False

    def compose(self) -> ComposeResult:
        d = self.detail
        ti = d.task_instance
        where = f"{ti.dag_id} › {ti.run_id} › {task_label(ti.task_id, ti.map_index)}"
        with Vertical():
            title = Text("✎ Waiting for a person: ", style="bold")
            title.append_text(safe_text(where, max_len=200, newline=" "))
            yield Static(title, classes="title")
            yield Static(safe_text(d.subject, style="bold", max_len=500, newline=" "))
            if d.body:
                with VerticalScroll(classes="body"):
                    yield Static(safe_text(d.body, max_len=20_000, newline="\n"))
            pick = "several options" if d.multiple else "one option"
            yield Static(Text(f"Choose {pick} (Space), then Ctrl+S to send:", style="dim"))
            defaults = set(d.defaults or ())
            self.options = SelectionList[str](
                *[(safe_text(o, max_len=200, newline=" "), o, o in defaults) for o in d.options],
                id="hitl-options")
            yield self.options
            self.params: TextArea | None = None
            if d.params:
                yield Static(Text("Params (JSON; the defaults are filled in):", style="dim"))
                values = {name: spec.value for name, spec in d.params.items()}
                self.params = TextArea(json.dumps(values, indent=2, default=str),
                                       language=None, id="hitl-params")
                yield self.params
            self.problem = Static("", classes="problem")
            yield self.problem
            hint = ("read-only: answering is off" if self.read_only
                    else "Ctrl+S send · Esc close")
            yield Static(Text(hint, style="dim"))

    def on_mount(self) -> None:
        self.options.focus()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def _show_problem(self, text: str | None) -> None:
        self.problem.update(safe_text(text or "", max_len=300, newline=" "))
        self.problem.set_class(bool(text), "shown")

    def action_send(self) -> None:
        if self.read_only:
            self._show_problem("read-only mode: answering is off")
            return
        if self.sending or self.client is None:
            return
        chosen = list(self.options.selected)
        values, problem = check_answer(self.detail, chosen,
                                       self.params.text if self.params is not None else None)
        if problem is not None:
            self._show_problem(problem)
            return
        self._show_problem(None)
        self.sending = True
        self.run_worker(self._send(self.client, chosen, values), exclusive=True)

    async def _send(self, client: AirflowClient, chosen: list[str],
                    values: dict[str, Any]) -> None:
        dag_id, run_id, task_id, map_index = self.detail.key
        try:
            await client.respond_hitl(dag_id, run_id, task_id, map_index, chosen,
                                      values or None)
        except ApiError as exc:
            # Never retried: an answer is given once. What was chosen and typed stays.
            self._show_problem(f"not sent: {error_message(exc)}")
            self.sending = False
            return
        self.finish(True)
