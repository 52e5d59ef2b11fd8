"""The last confs used to trigger each DAG, per profile, for the trigger modal's picker.

One JSON file, ``conf_history.json`` in ``platformdirs.user_data_path("astro-tui")`` (or
``$ASTRO_TUI_DATA_DIR``), mode 0600 in a 0700 directory: confs can hold things a user would not
want other local users to read. A missing or damaged file is an empty history, never an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["DATA_ENV", "MAX_PER_DAG", "HistoryEntry", "ConfHistory", "data_dir"]

DATA_ENV = "ASTRO_TUI_DATA_DIR"
MAX_PER_DAG = 10
FILE_NAME = "conf_history.json"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get(DATA_ENV)
    return Path(override) if override else platformdirs.user_data_path("astro-tui")


@dataclass(frozen=True)
class HistoryEntry:
    conf: dict[str, Any]
    at: str  # ISO 8601, when it was used


class ConfHistory:
    """Last ``MAX_PER_DAG`` distinct confs per (profile, DAG), newest first."""

    def __init__(self, profile: str, path: Path | None = None) -> None:
        self.profile = profile
        self.path = path or data_dir() / FILE_NAME

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def recent(self, dag_id: str) -> list[HistoryEntry]:
        profiles = self._load().get("profiles")
        dags = profiles.get(self.profile) if isinstance(profiles, dict) else None
        items = dags.get(dag_id) if isinstance(dags, dict) else None
        out = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("conf"), dict):
                out.append(HistoryEntry(item["conf"], str(item.get("at") or "")))
        return out[:MAX_PER_DAG]

    def add(self, dag_id: str, conf: Mapping[str, Any], at: datetime) -> None:
        """Put ``conf`` first (dropping an equal older entry) and keep ``MAX_PER_DAG``.
        Raises OSError if the file cannot be written."""
        data = self._load()
        profiles = data.get("profiles")
        if not isinstance(profiles, dict):
            profiles = {}
        dags = profiles.get(self.profile)
        if not isinstance(dags, dict):
            dags = {}
        conf = dict(conf)
        key = json.dumps(conf, sort_keys=True, default=str)
        entries = [{"conf": conf, "at": at.isoformat()}]
        for old in self.recent(dag_id):
            if json.dumps(old.conf, sort_keys=True, default=str) != key:
                entries.append({"conf": old.conf, "at": old.at})
        dags[dag_id] = entries[:MAX_PER_DAG]
        profiles[self.profile] = dags
        self._write({"version": 1, "profiles": profiles})

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                fd = -1
                json.dump(data, f, indent=1, default=str)
                f.flush()
                os.fsync(f.fileno())
        finally:
            if fd >= 0:
                os.close(fd)
        os.replace(tmp, self.path)
        os.chmod(self.path, 0o600)
