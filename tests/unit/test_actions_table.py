"""The actions table (tui/actions.py) is the one place keys are declared: the README's key table,
the help screen, the bindings and the read-only filter all come from it."""

from __future__ import annotations

import re
from pathlib import Path

from astro_tui.tui import actions
from astro_tui.tui.app import AstroTuiApp
from astro_tui.tui.screens.help import help_table
from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.log.view import LogView

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_key_table_is_the_actions_table():
    text = README.read_text()
    found = re.search(r"<!-- keys:[^\n]*-->\n(.*?)\n<!-- /keys -->", text, re.S)
    assert found, "README.md lost its key table markers"
    assert found.group(1).splitlines() == actions.readme_table(), (
        "README.md's key table differs from astro_tui/tui/actions.py: "
        "paste the output of `python -m astro_tui.tui.actions`")


def test_every_bound_key_is_documented_in_the_help():
    rows = {what for _, group in actions.help_groups() for _, what in group}
    for action in actions.ACTIONS:
        if action.label:
            assert action.help in rows, action.id
        else:  # grouped with a documented neighbour ("Tab / Shift+Tab")
            assert action.scope is not None and not action.readme, action.id
    assert "trigger the DAG; on a run: re-run its conf" in "".join(
        str(cell) for col in help_table().columns for cell in col._cells)


def test_widgets_bind_exactly_their_scope_of_the_table():
    def ids(cls) -> list[str]:
        return [b.id for b in cls.BINDINGS]

    assert set(ids(AstroTuiApp)) == {a.id for a in actions.ACTIONS if a.scope == "app"}
    assert set(ids(MainScreen)) == {a.id for a in actions.ACTIONS if a.scope == "main"}
    assert set(ids(LogView)) == {a.id for a in actions.ACTIONS if a.scope == "log"}
    assert set(ids(KeyedTable)) == {a.id for a in actions.ACTIONS if a.scope == "table"}


def test_write_actions_are_flagged_and_have_palette_words():
    writes = {a.id for a in actions.write_actions()}
    assert writes == {"trigger", "pause", "clear", "mark"}
    for action_id in writes:
        assert actions.is_write(action_id) and actions.BY_ID[action_id].palette
        assert actions.WRITE_DETAILS[action_id]
    assert not actions.is_write("refresh") and not actions.is_write("nope")


def test_no_key_is_bound_twice_in_one_scope():
    for scope in ("app", "main", "log", "table"):
        keys = [k for b in actions.bindings(scope) for k in b.key.split(",")]
        assert len(keys) == len(set(keys)), scope
