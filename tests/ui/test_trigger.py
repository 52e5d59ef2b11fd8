"""Pilot tests of the trigger modal (conf editor) against the recorded fake deployment."""

from __future__ import annotations

import json
import os
import stat

import pytest
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from astro_tui.history import ConfHistory
from astro_tui.tui.screens.confirm import ConfirmScreen
from astro_tui.tui.screens.trigger import TriggerScreen
from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.test_main_screen import loaded


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def text_of(screen, selector: str) -> str:
    return screen.query_one(selector, Static).render().plain  # type: ignore[union-attr]


async def open_trigger(pilot, app, dag_id: str = "example_params") -> TriggerScreen:
    await loaded(pilot, app)
    main = app.main
    main.goto_dag(dag_id)
    await wait_for(pilot, lambda: main.selection.dag_id == dag_id, what="selection")
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen) and app.screen.loaded,
                   what="the trigger modal with its conf")
    return app.screen


def posts(fake: FakeDeployment, dag_id: str = "example_params") -> list:
    return [r for r in fake.writes() if r.method == "POST"
            and r.url.path.endswith(f"/dags/{dag_id}/dagRuns")]


async def test_prefilled_with_param_defaults_and_described():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        assert json.loads(screen.editor.text) == {"color": "red", "count": 3, "flag": False,
                                                  "name": "world"}
        help_text = text_of(screen, "#param-help")
        assert "count  integer 1–100" in help_text and "how many greetings" in help_text
        assert "color  string: red|green|blue" in help_text
        assert text_of(screen, "#conf-status").startswith("✔ valid JSON")
        assert app.focused is screen.editor


async def test_invalid_json_blocks_submit_and_shows_line_and_column():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        editor = screen.editor
        editor.move_cursor((2, 0))  # start of line 3: "  \"count\": 3,"
        await pilot.press("x")
        status = text_of(screen, "#conf-status")
        assert status.startswith("✖ JSON error at line 3, column 1")
        assert screen.query_one("#submit").disabled
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, TriggerScreen) and not posts(fake)
        # A conf must be an object.
        editor.load_text("[1, 2]")
        await pilot.pause()
        assert "must be a JSON object" in text_of(screen, "#conf-status")
        # Fix it: submit goes through, the modal closes and the new run gets selected.
        editor.load_text('{"name": "fixed", "count": 2}')
        await pilot.pause()
        assert not screen.query_one("#submit").disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is app.main, what="the modal to close")
        assert len(posts(fake)) == 1
        sent = json.loads(posts(fake)[0].content)
        assert sent == {"logical_date": None, "conf": {"name": "fixed", "count": 2}}
        new_run = "manual__2026-11-25T10:10:01+00:00"
        await wait_for(pilot, lambda: app.main.selection.run_id == new_run, what="the new run selected")
        assert app.main.pane_layout.active == "runs"


async def test_schema_problems_are_shown_the_server_decides_and_its_error_keeps_the_text():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        typed = '{\n  "count": "x",\n  "color": "purple"\n}'
        screen.editor.load_text(typed)
        await pilot.pause()
        status = text_of(screen, "#conf-status")
        assert status.startswith("✖ ") and "the server will refuse this conf" in status
        assert "count: 'x' is not of type 'integer' (type)" in status
        assert "color: 'purple' is not one of ['red', 'green', 'blue'] (enum)" in status
        # not blocked: the API's params may differ from the DAG's; the server has the last word
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.server_error is not None, what="the server error")
        assert isinstance(app.screen, TriggerScreen)
        assert screen.editor.text == typed
        assert "Invalid input for param count" in text_of(screen, "#server-error")
        assert not screen.query_one("#submit").disabled  # fix and try again


async def test_409_duplicate_run_id_is_shown_inline_and_fields_are_kept():
    fake = FakeDeployment()
    app = make_app(fake)
    taken = fake.run("example_params")["dag_run_id"]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        screen.query_one("#run-id", Input).value = taken
        screen.query_one("#note", Input).value = "from a test"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.server_error is not None, what="the 409")
        assert "Unique constraint violation" in text_of(screen, "#server-error")
        assert screen.query_one("#run-id", Input).value == taken
        sent = json.loads(posts(fake)[0].content)
        assert sent["dag_run_id"] == taken and sent["note"] == "from a test"


async def test_bad_logical_date_blocks_submit():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        screen.query_one("#logical-date", Input).value = "yesterday"
        await pilot.pause()
        assert "logical date: use ISO 8601" in text_of(screen, "#conf-status")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert not posts(fake)
        screen.query_one("#logical-date", Input).value = "2026-01-31T10:00:00"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is app.main, what="the modal to close")
        assert json.loads(posts(fake)[0].content)["logical_date"] == "2026-01-31T10:00:00+00:00"


async def test_escape_with_edits_asks_first_and_without_edits_closes():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        await pilot.press("escape")  # nothing edited: closes at once
        assert app.screen is app.main
        screen = await open_trigger(pilot, app)
        await pilot.press("space")
        edited = screen.editor.text
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("k")  # keep editing
        assert app.screen is screen and screen.editor.text == edited
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("d")  # discard
        await wait_for(pilot, lambda: app.screen is app.main, what="the modal to close")
        assert not fake.writes()
        # `q` on a focused button asks too, instead of quitting the app with the text.
        screen = await open_trigger(pilot, app)
        await pilot.press("space")
        screen.query_one("#cancel").focus()
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen) and app.is_running


async def test_history_picker_offers_recent_confs_and_replaces_undoably(data_dir):
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        screen.editor.load_text('{"name": "first", "count": 7}')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is app.main, what="first trigger")
        app.main.pane_layout.activate("dags")
        screen = await open_trigger(pilot, app)
        picker = screen.query_one("#history", Select)
        values = [value for _, value in picker._options if isinstance(value, str)]
        assert values == ["defaults", "h0"]
        assert screen.recent[0].conf == {"name": "first", "count": 7}
        typed = '{"name": "mine"}'
        screen.editor.load_text(typed)
        picker.value = "h0"
        await pilot.pause()
        assert json.loads(screen.editor.text) == {"name": "first", "count": 7}
        screen.editor.action_undo()
        assert screen.editor.text == typed  # the user's text is one Ctrl+Z away
    path = data_dir / "conf_history.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ConfHistory("test", path).recent("example_params")[0].conf["name"] == "first"


async def test_select_all_and_reset_to_the_params_defaults():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        defaults = screen.editor.text
        await pilot.press("ctrl+a")  # the editor's own Ctrl+A would go to the line start
        assert screen.editor.selected_text == defaults
        for key in '{"name": "x"}':
            await pilot.press(key if key not in ' {}":' else {
                " ": "space", "{": "left_curly_bracket", "}": "right_curly_bracket",
                '"': "quotation_mark", ":": "colon"}[key])
        typed = screen.editor.text
        assert json.loads(typed) == {"name": "x"}  # typing replaced the whole selection
        await pilot.press("ctrl+r")
        assert screen.editor.text == defaults
        screen.editor.action_undo()
        assert screen.editor.text == typed  # the user's text is one Ctrl+Z away
        # in a one-line field, Ctrl+A selects that field (its text is typed over)
        field = screen.query_one("#note", Input)
        field.value = "old note"
        field.focus()
        await pilot.press("ctrl+a", "n", "e", "w")
        assert field.value == "new"


async def test_t_on_a_run_prefills_its_conf():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_params")
        await wait_for(pilot, lambda: main.run_table.row_count == 2, what="runs")
        main.pane_layout.activate("runs")
        main.run_table.move_cursor(row=1)
        await wait_for(pilot, lambda: main.selection.run_id == main.run_table.keys[1], what="run 2")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen), what="modal")
        screen = app.screen
        assert json.loads(screen.editor.text) == {"count": 5, "name": "demo"}
        assert "re-run with the conf of" in text_of(screen, "#trigger-title")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is main, what="the modal to close")
        assert json.loads(posts(fake)[0].content)["conf"] == {"count": 5, "name": "demo"}


async def test_hostile_run_conf_is_escaped_in_the_editor():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_hostile")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="hostile run")
        main.pane_layout.activate("runs")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen) and app.screen.loaded,
                       what="modal")
        text = app.screen.query_one(TextArea).text
        assert "\x1b" not in text and "\x07" not in text and "\\u001b]52" in text
        assert json.loads(text) == main.selection.runs[main.selection.run_id].conf


async def test_paused_dag_warns_and_offers_to_unpause():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app, "example_biglog")
        assert screen.has_class("paused")
        assert "stay queued until it is unpaused" in text_of(screen, "#paused-note")
        screen.query_one("#unpause", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is app.main, what="the modal to close")
        writes = [(r.method, r.url.path) for r in fake.writes()]
        assert writes == [("PATCH", "/api/v2/dags/example_biglog"),
                          ("POST", "/api/v2/dags/example_biglog/dagRuns")]
        assert fake.details["example_biglog"]["is_paused"] is False


async def test_403_on_trigger_is_shown_and_greys_t_out():
    fake = FakeDeployment()
    fake.errors[("POST", "/example_params/dagRuns")] = (403, {"detail": "Forbidden"})
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_trigger(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.server_error is not None, what="the 403")
        assert "your token cannot do this" in text_of(screen, "#server-error")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="the modal to close")
        assert app.main.check_action("write", ("trigger",)) is None  # shown greyed out
        await pilot.press("t")
        await pilot.pause(0.1)
        assert app.screen is app.main
        assert len(fake.writes()) == 1
