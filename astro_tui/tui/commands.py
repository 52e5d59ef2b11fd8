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


class DeploymentCommands(Provider):
    """Several deployments (issue 17): switch to another one, live."""

    def _targets(self) -> list[str]:
        fleet = getattr(self.app, "fleet", None)
        if fleet is None or not fleet.several:
            return []
        return [n for n in fleet.names if n != fleet.current]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name in self._targets():
            label = escape_markup(f"Switch to deployment {name}", newline=" ")
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._switch, name),
                          help="Watch this deployment in the overview and the drill-down")

    def _switch(self, name: str) -> None:
        self.app.run_worker(self.app.switch_to(name), group="switch")  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        async for hit in self.search(""):
            yield hit
