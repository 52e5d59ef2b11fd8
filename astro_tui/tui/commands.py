"""Command palette (Ctrl+P): jump straight to any DAG by fuzzy id or display name."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Protocol, runtime_checkable
from weakref import WeakKeyDictionary

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


#: one Astro discovery per app (the palette is opened many times; the API is asked once)
_DISCOVERIES: WeakKeyDictionary[Any, asyncio.Task[tuple[list[Any], str | None]]] = (
    WeakKeyDictionary())
#: words that ask for Astro deployments (any other query never waits for the Astro API)
_ASTRO_WORDS = ("astro", "add", "deploy", "discover")


async def _discover() -> tuple[list[Any], str | None]:
    """The discovered deployments' planned profiles (those not a profile yet), or a one-line
    error."""
    from astro_tui.airflow.errors import ApiError
    from astro_tui.astro.platform import discover_from_env
    from astro_tui.astro.profiles import plan_profiles
    from astro_tui.config import ConfigError, load_config

    try:
        found = await discover_from_env()
        existing = load_config().profiles
    except (ConfigError, ApiError) as exc:
        return [], getattr(exc, "message", None) or str(exc)
    plans = plan_profiles(found.deployments, existing)
    return [p for p in plans if p.state == "new" and p.profile is not None], None


class AstroCommands(Provider):
    """Add a deployment discovered through the Astro API (issue 17) to the fleet."""

    async def search(self, query: str) -> Hits:
        if not any(word in query.lower() for word in _ASTRO_WORDS):
            return
        app = self.app
        fleet = getattr(app, "fleet", None)
        if fleet is None:
            return
        task = _DISCOVERIES.get(app)
        if task is None:
            task = _DISCOVERIES[app] = asyncio.ensure_future(_discover())
        plans, error = await task
        matcher = self.matcher(query)
        if error is not None:
            label = escape_markup(f"Astro deployments: {error}", max_len=150, newline=" ")
            yield Hit(max(matcher.match(label), 0.1), label, lambda: None,
                      help="discovery needs ASTRO_API_TOKEN or an `astro login` session")
            return
        for plan in plans:
            if plan.profile.name in fleet.deployments:
                continue
            d = plan.deployment
            what = " · ".join(x for x in (d.workspace_name, f"Airflow {d.airflow_version}"
                                          if d.airflow_version else None,
                                          "hibernating" if d.hibernating else None) if x)
            label = escape_markup(f"Add Astro deployment {d.name} ({what})", max_len=150,
                                  newline=" ")
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._add, plan.profile),
                          help=escape_markup(f"watch it too, as profile {plan.profile.name}",
                                             max_len=100, newline=" "))

    def _add(self, profile: Any) -> None:
        self.app.run_worker(self.app.add_deployment(profile),  # type: ignore[attr-defined]
                            group="add-deployment")
