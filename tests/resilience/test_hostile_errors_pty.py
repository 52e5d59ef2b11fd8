"""A hostile server error message in a real terminal: the real app runs in a pty against the real
Airflow 3 behind the fault proxy, which then answers every request with a 500 whose `detail`
carries Rich markup, OSC/CSI/C1 escapes, NUL, bidi controls and a 10k-character tail. The status
bar must name the error, show its text literally (cut), write none of its escapes, and the app must
survive (the `[@click=app.quit]` markup must not quit it)."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.integration.test_log_pty import CSI, TEXTUAL_OSC, Terminal
from tests.resilience.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

HOSTILE = ("boom [bold]not bold[/] [@click=app.quit]quit[/] [/] \x1b]0;pwned-title\x07"
           "\x1b]52;c;ZXZpbA==\x07 \x1b[2J\x1bc \x9b31m \x00 \u202emoc.live\u202c e\u0301 🚀"
           + "x" * 10_000)


def test_hostile_error_message_is_shown_literally_without_escapes(airflow3, tmp_path):
    proxy = FaultProxy(airflow3.url).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ASTRO"))}
    env.update(TERM="xterm-256color", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c"),
               AIRFLOW_API_URL=proxy.url, AIRFLOW_USERNAME=airflow3.username,
               AIRFLOW_PASSWORD=airflow3.password)
    env.pop("NO_COLOR", None)
    term = Terminal(env, size=(200, 40))  # wide: the status bar shows the whole cut message
    try:
        term.wait_text("example_taskgroup", 90)
        start = len(term.out)
        proxy.body = json.dumps({"detail": HOSTILE}).encode()
        proxy.set(500)
        term.press("r", 0.5)  # refresh now rather than wait for the next poll
        term.wait_text("boom [bold]not bold[/]", 30)
        term.read(2)
        assert os.waitpid(term.pid, os.WNOHANG) == (0, 0), "the app exited"
        proxy.set(None)
    finally:
        term.close()
        proxy.stop()
    text = bytes(term.out[start:]).decode("utf-8")  # strict: valid UTF-8 only
    assert "\x00" not in text
    assert not [c for c in text if 0x80 <= ord(c) <= 0x9F], "C1 control written"
    oscs = re.findall(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?", text)
    assert all(TEXTUAL_OSC.fullmatch(osc) for osc in oscs), oscs
    assert "\x1b[2J" not in text and "\x1bc" not in text
    assert "\u202e" not in text  # bidi overrides could disguise the text
    plain = CSI.sub("", text)
    assert "[@click=app.quit]quit[/]" in plain
    assert "pwned-title" not in plain  # the whole OSC is dropped, not just its ESC
    assert "moc.live" in plain and "🚀" in plain  # bidi controls dropped, text kept
    assert "ZXZpbA" not in plain and "x" * 200 not in plain  # cut, not 10k characters
