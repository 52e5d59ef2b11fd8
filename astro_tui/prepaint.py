"""The first paint, before Textual is even imported: the DAG list saved on the last quit.

Importing Textual and the app and starting it takes most of a second; the saved DAG list
(watch/saved.py) is on disk. So the command line writes its rows to the terminal at once (the
alternate screen, like the app's), marked with their age, then starts the app, whose first frame
replaces them. Plain text and the one sanitizer; nothing when stdout is not a terminal, when
TERM is "dumb", or when there is no usable saved list. Light on purpose: json, the paths and
the sanitizer only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone

from astro_tui.paths import profile_file
from astro_tui.text import clean

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"  # the alternate screen, no cursor, cleared
LEAVE = "\x1b[2J\x1b[?25h\x1b[?1049l"


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, int(seconds))}s"
    if seconds < 5400:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def screen_text(profile: str, doc: object, width: int, height: int,
                now: datetime) -> str | None:
    """The lines to paint (None: no usable saved list)."""
    if not isinstance(doc, dict) or doc.get("version") != 1 or doc.get("profile") != profile:
        return None
    dags, latest = doc.get("dags"), doc.get("latest")
    if not isinstance(dags, list) or not isinstance(latest, list) or not dags:
        return None
    try:
        saved_at = datetime.fromisoformat(str(doc.get("saved_at")).replace("Z", "+00:00"))
        age = _age((now - saved_at).total_seconds())
    except (ValueError, TypeError):
        return None
    states = {r.get("dag_id"): r.get("state") for r in latest if isinstance(r, dict)}
    unknown = doc.get("unknown")
    if isinstance(unknown, dict):  # last run not known: its state where known, else "…"
        for dag_id, state in unknown.items():
            states.setdefault(dag_id, state if isinstance(state, str) and state else "…")
    ids = sorted(str(d.get("dag_id")) for d in dags if isinstance(d, dict) and d.get("dag_id"))
    width = max(40, width)
    state_w = 10
    id_w = max(8, min(max(len(i) for i in ids), width - state_w - 4))
    lines = [clean(f" {profile} · DAG list saved {age} ago · connecting…", width - 1,
                   newline=" "),
             "",
             clean(f" DAGs ({len(ids)})", width - 1),
             f" {'DAG':<{id_w}}  {'Last run':<{state_w}}"[: width - 1]]
    for dag_id in ids[: max(0, height - len(lines) - 1)]:
        state = clean(str(states.get(dag_id) or "—"), state_w, newline=" ")
        shown = clean(dag_id, id_w, newline=" ")
        lines.append(f" {shown:<{id_w}}  {state:<{state_w}}")
    return "\r\n".join(lines)


def prepaint(profile: str, write: Callable[[str], object] | None = None,
             size: tuple[int, int] | None = None) -> Callable[[], None]:
    """Paint the saved DAG list of `profile` now; returns what takes the terminal back (for an
    app that then fails to start). Does nothing (and returns a no-op) when it cannot help."""
    try:
        if not os.isatty(1) and write is None:
            return lambda: None
        if os.environ.get("TERM", "") in ("", "dumb") and write is None:
            return lambda: None
        width, height = size or os.get_terminal_size(1)
        with open(profile_file(profile, "cache"), encoding="utf-8") as fh:
            doc = json.load(fh)
        text = screen_text(profile, doc, width, height, datetime.now(timezone.utc))
    except (OSError, ValueError):
        return lambda: None
    if text is None:
        return lambda: None
    def out(data: str) -> None:
        if write is not None:
            write(data)
        else:
            os.write(1, data.encode("utf-8", "replace"))

    out(ENTER + text)
    return lambda: out(LEAVE)
