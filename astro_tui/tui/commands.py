"""Command palette (Ctrl+P): jump straight to any DAG by fuzzy id or display name."""

from __future__ import annotations

from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import Hit, Hits, Provider

from astro_tui.text import escape_markup


@runtime_checkable
class DagBrowser(Protocol):
    """A screen that lists DAGs and can select one."""

    def dag_names(self) -> dict[str, str]:
        """DAG id -> display name (the id itself when none is set)."""
        ...

    def goto_dag(self, dag_id: str) -> None: ...


class DagCommands(Provider):
    async def search(self, query: str) -> Hits:
        screen = next((s for s in reversed(self.app.screen_stack)
                       if isinstance(s, DagBrowser)), None)
        if screen is None:
            return
        matcher = self.matcher(query)
        for dag_id, name in sorted(screen.dag_names().items()):
            # The palette parses prompts as markup: escape the (untrusted) DAG id and name.
            label = escape_markup(dag_id if name == dag_id else f"{dag_id} · {name}",
                                  newline=" ")
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(screen.goto_dag, dag_id),
                          help="Go to DAG")

    async def discover(self) -> Hits:
        async for hit in self.search(""):
            yield hit
