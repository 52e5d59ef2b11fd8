"""Actions on the selected DAG, run or task (trigger, pause, clear, mark), as a base class of the
main screen. Every write is confirmed, never retried, and hidden in read-only mode."""

from __future__ import annotations

from textual.screen import Screen


class ActionsScreen(Screen):
    """Base of MainScreen: bindings and actions that change Airflow live here."""
