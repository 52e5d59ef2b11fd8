"""Copying an Airflow UI address: to the person's own clipboard (OSC 52, which reaches the
local terminal over SSH and through tmux), and shown as a clickable link (OSC 8)."""

from __future__ import annotations

from textual.widget import Widget

from astro_tui.text import escape_markup


def copy_link(widget: Widget, url: str, title: str = "Airflow UI URL copied") -> None:
    widget.app.copy_to_clipboard(url)
    shown = escape_markup(url)
    # a link only when the URL cannot break out of the markup tag
    link = f'[link="{url}"]{shown}[/link]' if not any(c in url for c in '"[]\\') else shown
    widget.notify(link, title=title)
