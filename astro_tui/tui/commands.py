"""Command palette (Ctrl+P): jump straight to any DAG by fuzzy name."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from astro_tui.text import escape_markup


class DagCommands(Provider):
    async def search(self, query: str) -> Hits:
        from astro_tui.tui.screens.main import MainScreen

        app = self.app
        try:
            main = app.main  # type: ignore[attr-defined]
        except LookupError:
            return
        if not isinstance(main, MainScreen):
            return
        matcher = self.matcher(query)
        for dag_id in sorted(main.dags):
            # The palette parses prompts as markup: escape the (untrusted) DAG id.
            label = escape_markup(dag_id, newline=" ")
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(main.goto_dag, dag_id),
                          help="Go to DAG")

    async def discover(self) -> Hits:
        async for hit in self.search(""):
            yield hit
