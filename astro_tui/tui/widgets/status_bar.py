"""The one-line status bar: profile, Airflow version, connection state, freshness, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusBar(Static):
    """Shows a Text; `show()` repaints only when the text really changed (idle = no bytes)."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1; background: $panel; color: $text; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;  /* one line: never wrap away the rest */
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self._last: tuple = ()

    @property
    def text(self) -> str:
        """The text shown (plain)."""
        return self._last[0] if self._last else ""

    def show(self, text: Text) -> None:
        sig = (text.plain, tuple(text.spans), str(text.style))
        if sig != self._last:
            self._last = sig
            self.update(text, layout=False)  # one line, always: repaint it alone
