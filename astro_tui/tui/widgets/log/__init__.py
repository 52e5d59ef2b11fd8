"""The log pane: base.py (lines and view state) ← status.py ← keys.py ← view.py."""

from astro_tui.tui.widgets.log.view import LogView

__all__ = ["LogView"]
