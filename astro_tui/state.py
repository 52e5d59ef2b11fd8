"""Where the app was, per profile, so that the next start reopens there.

One JSON file per profile in ``platformdirs.user_state_path("astro-tui") / "sessions"`` (or
``$ASTRO_TUI_STATE_DIR/sessions``), written atomically with mode 0600 in a 0700 directory, on
quit and on SIGHUP (an SSH drop). It holds the screen, the selected DAG, run, task and try, the
focused pane, the filters and the watches: names the server gave, never a secret. A corrupt,
foreign or older file is ignored with one line (`problem`), never a crash. No Textual here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astro_tui.config import write_private
from astro_tui.paths import STATE_ENV, profile_file, state_dir
from astro_tui.watch.alerts import Watch

__all__ = ["STATE_ENV", "SessionState", "SessionStore", "profile_file", "state_dir"]
VERSION = 1
SCREENS = ("overview", "main")
PANES = ("dags", "runs", "tasks", "log", "inbox")


@dataclass(frozen=True)
class SessionState:
    screen: str = "overview"
    dag_id: str | None = None
    run_id: str | None = None
    task: str | None = None  # the task's label: task_id or task_id[map_index]
    try_number: int | None = None
    pane: str = "dags"
    filters: dict[str, str] = field(default_factory=dict)
    watches: tuple[Watch, ...] = ()

    def to_json(self, profile: str) -> dict[str, Any]:
        return {"version": VERSION, "profile": profile, "screen": self.screen,
                "dag_id": self.dag_id, "run_id": self.run_id, "task": self.task,
                "try_number": self.try_number, "pane": self.pane, "filters": self.filters,
                "watches": [w.to_json() for w in self.watches]}

    @classmethod
    def from_json(cls, data: Any, profile: str) -> SessionState:
        """ValueError (with the reason) when it is not this profile's session of this version."""
        if not isinstance(data, dict):
            raise ValueError("not a session")
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, not {VERSION}")
        if data.get("profile") != profile:
            raise ValueError("another profile's session")

        def text(key: str) -> str | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"bad {key}")
            return value

        try_number = data.get("try_number")
        if try_number is not None and (not isinstance(try_number, int)
                                       or isinstance(try_number, bool) or try_number < 1):
            raise ValueError("bad try_number")
        screen, pane = data.get("screen"), data.get("pane")
        if screen not in SCREENS or pane not in PANES:
            raise ValueError("bad screen or pane")
        filters = data.get("filters") or {}
        if not isinstance(filters, dict) or not all(
                k in PANES and isinstance(v, str) for k, v in filters.items()):
            raise ValueError("bad filters")
        watches = data.get("watches") or []
        if not isinstance(watches, list):
            raise ValueError("bad watches")
        return cls(screen, text("dag_id"), text("run_id"), text("task"), try_number, pane,
                   dict(filters), tuple(Watch.from_json(w) for w in watches))


class SessionStore:
    def __init__(self, profile: str, path: Path | None = None) -> None:
        self.profile = profile
        self.path = path or profile_file(profile, "sessions")
        #: why the saved session was ignored (one line), if it was
        self.problem: str | None = None

    def load(self) -> SessionState | None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problem = f"saved session not read ({exc.strerror or exc}): starting clean"
            return None
        try:
            return SessionState.from_json(json.loads(raw), self.profile)
        except ValueError as exc:  # (json.JSONDecodeError is a ValueError)
            reason = str(exc).splitlines()[0][:80] if str(exc) else "unreadable"
            self.problem = f"saved session ignored ({reason}): starting clean"
            return None

    def save(self, state: SessionState) -> None:
        """Raises OSError when it cannot be written."""
        write_private(self.path, json.dumps(state.to_json(self.profile), indent=1) + "\n")
