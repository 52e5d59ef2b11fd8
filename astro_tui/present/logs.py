"""The parts of a log line's prefix that the TUI's log pane and ``astro-tui logs`` share."""

from __future__ import annotations

import re

_MODULE_LOGGER = re.compile(r"^unusual_prefix_[0-9a-f]+_")

#: loggers whose name says nothing (the task's own stdout and stderr)
QUIET_LOGGERS = frozenset({"task.stdout", "task.stderr"})


def short_logger(name: str) -> str:
    """``unusual_prefix_<sha>_my_dag`` -> ``my_dag``; long dotted names -> their last part
    (``file.py:12`` stays whole)."""
    name = _MODULE_LOGGER.sub("", name)
    if len(name) > 24 and "." in name and ":" not in name:
        name = name.rsplit(".", 1)[1]
    return name
