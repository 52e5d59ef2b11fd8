"""A coloured state label for the panes (the glyphs and colours live in present/states.py)."""

from __future__ import annotations

from rich.text import Text

from astro_tui.present.states import state_style
from astro_tui.text import clean


def state_text(state: str | None, *, glyph: bool = True) -> Text:
    """A coloured state label: "● success". Unknown states are shown plainly, sanitized."""
    name = clean(state) if state else "none"
    mark, style = state_style(name)
    return Text(f"{mark} {name}" if glyph else name, style=style)
