"""Textual's Footer, without its memory leak.

Textual 8's Footer recomposes on every change of the active bindings (every focus change) and
data-binds each new FooterKey to its own `compact` reactive. Each binding adds a watcher entry
(FooterKey, setter) to the Footer, and Textual prunes that list only when `compact` changes,
which it never does here. So every focus change kept a dozen dead FooterKeys (with their styles
and caches) alive: about 0.2 MB per key press, the RSS growth the one-hour soak found.
After each recompose we drop the watcher entries of closed widgets, as Textual itself would.
"""

from __future__ import annotations

from textual.widgets import Footer as _TextualFooter


def drop_closed_watchers(obj: object) -> int:
    """Remove watcher entries whose widget is closed or closing; returns how many."""
    watchers = getattr(obj, "__watchers", None)
    if not isinstance(watchers, dict):
        return 0
    dropped = 0
    for entries in watchers.values():
        alive = [(node, cb) for node, cb in entries
                 if not (getattr(node, "_closing", False) or getattr(node, "_closed", False))]
        dropped += len(entries) - len(alive)
        entries[:] = alive
    return dropped


class Footer(_TextualFooter):
    async def recompose(self) -> None:
        await super().recompose()
        drop_closed_watchers(self)
