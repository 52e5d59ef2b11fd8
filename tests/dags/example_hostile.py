"""Airflow example DAG for astro-tui tests only: hostile text in the description, tags and log.

Every string here is data that a terminal UI must show literally: Rich markup, ANSI colours,
OSC 0 (window title) and OSC 52 (clipboard write) sequences, C1 and other control bytes, and a very
long line. Not part of the demo.
"""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task

ESC = "\x1b"
MARKUP = "[/] [bold]bold?[/bold] [@click=app.quit]click to quit[/]"
ANSI = f"{ESC}[31mred{ESC}[0m {ESC}[2J{ESC}[H"
OSC = f"{ESC}]0;pwned-title\x07 {ESC}]52;c;ZXZpbA==\x07"
CONTROL = "nul:\x00 bel:\x07 bs:\x08 c1:\x9b31m \x9d0;x\x9c del:\x7f"
UNICODE = "RTL: \u05e9\u05dc\u05d5\u05dd combining: e\u0301 emoji: \U0001f680 bidi: \u202eevil\u202c"

HOSTILE_LINES = [
    "markup " + MARKUP,
    "ansi " + ANSI,
    "osc " + OSC,
    "control " + CONTROL,
    "unicode " + UNICODE,
    "long " + "x" * 10000,
]


@dag(
    dag_id="example_hostile",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["[/]", "[bold]tag[/bold]", "hostile"],
    description=f"{MARKUP} {ANSI} {OSC} {UNICODE}",
    default_args={"owner": "[red]owner[/red]"},
)
def example_hostile():
    @task
    def shout():
        for line in HOSTILE_LINES:
            print(line)
        return None

    shout()


example_hostile()
