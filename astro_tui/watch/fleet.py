"""Several deployments watched at once (issue 17): one Watcher per deployment, a `Fleet` of them.

Each deployment has its own client, auth, TLS settings, connection, backoff and request gate
(its own `Watcher`), so one that is down, slow, rate-limited or unauthorized delays no other: the
polls of different Watchers are independent asyncio tasks, and nothing waits for all of them.

One deployment is *current*: the screens subscribe to its Watcher for everything they show (the
DAG list, runs, tasks, logs, health details). Every other one stays watched at the cost of one
overview: the fleet keeps its DAG list (whose "runs changed since" poll sees every run end, for
the alerts), its health and its failure inbox subscribed, and nothing else. Switching moves that
background subscription from the new current deployment to the old one, live.

Plain asyncio, no Textual (the TUI and the headless commands share it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from astro_tui.airflow.client import AirflowClient
from astro_tui.watch.events import DagList, HealthOf, InboxOf, SharedTopic
from astro_tui.watch.feed import Subscription
from astro_tui.watch.saved import DagListStore
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher

__all__ = ["Deployment", "Fleet", "background_topics"]


@dataclass(frozen=True)
class Deployment:
    """One member of the fleet: its profile's name, how to connect, how to poll it."""

    name: str
    connect: Callable[[], Awaitable[AirflowClient]]
    settings: Settings
    read_only: bool = False
    notify: str = "off"
    notify_command: str | None = None
    saved: DagListStore | None = None  # its last DAG list (painted at once on start)


def background_topics(settings: Settings) -> list[SharedTopic]:
    """What a deployment that is not current stays subscribed to: an overview's worth."""
    return [DagList(), HealthOf(), InboxOf(settings.inbox_window_seconds)]


class Fleet:
    """The deployments, in the order given; the first is current until `switch`."""

    def __init__(self, deployments: Sequence[Deployment], *,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 watchers: dict[str, Watcher] | None = None) -> None:
        if not deployments:
            raise ValueError("a fleet needs at least one deployment")
        names = [d.name for d in deployments]
        if len(set(names)) != len(names):
            raise ValueError(f"deployment names must differ: {names}")
        self.deployments = {d.name: d for d in deployments}
        given = watchers or {}
        self.watchers = {d.name: given.get(d.name) or Watcher(d.connect, d.settings, clock=clock,
                                                              now=now)
                         for d in deployments}
        self.current = names[0]
        self._clock, self._now = clock, now
        self._held: dict[str, list[Subscription]] = {}
        self._started = False

    @property
    def names(self) -> list[str]:
        return list(self.deployments)

    @property
    def several(self) -> bool:
        return len(self.deployments) > 1

    @property
    def watcher(self) -> Watcher:
        """The current deployment's Watcher."""
        return self.watchers[self.current]

    def start(self) -> None:
        """Connect every deployment (each retries on its own) and keep the others watched."""
        self._started = True
        for name, watcher in self.watchers.items():
            watcher.start()
            if name != self.current:
                self._hold(name)

    def add(self, deployment: Deployment, watcher: Watcher | None = None) -> Watcher:
        """One more deployment (the palette's discovered Astro deployment), watched at once in
        the background."""
        if deployment.name in self.deployments:
            raise ValueError(f"deployment {deployment.name!r} is watched already")
        self.deployments[deployment.name] = deployment
        added = self.watchers[deployment.name] = watcher or Watcher(
            deployment.connect, deployment.settings, clock=self._clock, now=self._now)
        if self._started:
            added.start()
            self._hold(deployment.name)
        return added

    def switch(self, name: str) -> Watcher:
        """Make `name` current: its background subscriptions go (the screens take over), the
        previous current one keeps an overview's worth. Returns its Watcher."""
        if name not in self.deployments:
            raise KeyError(name)
        if name == self.current:
            return self.watcher
        previous, self.current = self.current, name
        if self._started:
            self._hold(previous)
            self._release(name)
        return self.watcher

    def step(self, delta: int) -> str:
        """The name `delta` places after the current one (wrapping)."""
        names = self.names
        return names[(names.index(self.current) + delta) % len(names)]

    def held(self, name: str) -> bool:
        """Whether the fleet keeps `name`'s overview topics subscribed (not current)."""
        return bool(self._held.get(name))

    def _hold(self, name: str) -> None:
        if name in self._held:
            return
        watcher = self.watchers[name]
        self._held[name] = [watcher.subscribe(topic, _ignore)
                            for topic in background_topics(watcher.settings)]
        watcher.pace(background=True)

    def _release(self, name: str) -> None:
        self.watchers[name].pace(background=False)
        for sub in self._held.pop(name, []):
            sub.close()

    async def aclose(self) -> None:
        for name in list(self._held):
            self._release(name)
        # Each closes on its own: one that hangs in a request does not hold up the others.
        await asyncio.gather(*(w.aclose() for w in self.watchers.values()),
                             return_exceptions=True)


def _ignore(event: object) -> None:
    """The background subscriptions keep feeds polled; their screens read the events."""
