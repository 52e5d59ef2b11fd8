"""Where astro-tui keeps per-profile state (the session, the saved DAG list). Light on purpose:
the first paint from the saved list (prepaint.py) reads it before anything heavy is imported."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import platformdirs

STATE_ENV = "ASTRO_TUI_STATE_DIR"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get(STATE_ENV)
    return Path(override) if override else platformdirs.user_state_path("astro-tui")


def profile_file(profile: str, folder: str, env: Mapping[str, str] | None = None) -> Path:
    """`<state dir>/<folder>/<profile>.json`; the name made safe, and distinct per profile."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", profile)[:60]
    digest = hashlib.sha256(profile.encode()).hexdigest()[:8]
    return state_dir(env) / folder / f"{safe}-{digest}.json"
