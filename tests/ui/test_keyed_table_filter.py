"""The table's filter (issue 19: a keystroke over 5,000 rows): it matches the row's key or any
cell's text, in any case, never across two cells, and a sync with new cells is filtered by
their new text."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from astro_tui.tui.widgets.keyed_table import Column, KeyedTable

COLUMNS = [Column("dag", "DAG"), Column("state", "Last run"), Column("tag", "Tags")]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS)


def rows(states: dict[str, str]) -> list[tuple[str, tuple[Text, ...]]]:
    return [(key, (Text(key.upper()), Text(state), Text("team-" + key[:2])))
            for key, state in states.items()]


async def test_the_filter_matches_a_key_or_a_cell_and_follows_a_sync():
    async with TableApp().run_test() as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync(rows({"alpha": "failed", "beta": "success", "gamma": "running"}))
        table.set_filter("FAIL")  # a cell, any case
        assert table.keys == ["alpha"]
        table.set_filter("team-ga")  # the third cell
        assert table.keys == ["gamma"]
        table.set_filter("success\0team")  # never across two cells
        assert table.keys == []
        table.set_filter("a")  # the key (and cells)
        assert table.keys == ["alpha", "beta", "gamma"]
        table.set_filter("fail")
        table.sync(rows({"alpha": "success", "beta": "failed", "gamma": "running"}))
        assert table.keys == ["beta"], "the new cells' text, not the old"
        table.set_filter("")
        assert table.keys == ["alpha", "beta", "gamma"]
        await pilot.pause()
