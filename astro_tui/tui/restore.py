"""The session (astro_tui/state.py) taken from the screens on quit, and given back on start.

`capture` reads what is selected and shown; `MainScreen.restore_to` holds a saved session until
the DAG list is shown (selecting a DAG before its row exists would be undone by the table's
first cursor move), then the navigator reopens the run, task and try.
"""

from __future__ import annotations

from textual.app import App

from astro_tui.state import SessionState
from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.screens.overview import OverviewScreen
from astro_tui.watch.alerts import Alerts


def capture(app: App[object], main: MainScreen, alerts: Alerts) -> SessionState:
    """Where the person is now: the drill-down's selection, pane and filters, and the watches."""
    below = next((s for s in reversed(app.screen_stack)
                  if isinstance(s, (MainScreen, OverviewScreen))), None)
    screen = "overview" if isinstance(below, OverviewScreen) else "main"
    s = main.selection
    follower = main.log_view.follower if s.task_key is not None else None
    pane = below.pane_layout.active if below is not None else "dags"
    filters = {name: pane_.filter_input.value for name, pane_ in main.panes.items()
               if pane_.filterable and pane_.filter_input.value}
    return SessionState(screen, s.dag_id, s.run_id, s.task_key,
                        follower.try_number if follower is not None else None, pane, filters,
                        tuple(alerts.watches))


def apply_filters(main: MainScreen, state: SessionState) -> None:
    for name, text in state.filters.items():
        pane = main.panes.get(name)
        if pane is not None and pane.filterable:
            pane.filter_input.value = text  # a kept filter (closed, still applied)
