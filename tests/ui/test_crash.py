"""A crash never prints local variables (Textual's default report does, and leaks tokens)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.app import App

from astro_tui.tui.app import AstroTuiApp
from tests.ui.fake import FakeDeployment

SECRET = "tok-3f9a1c77e2b845d0a1"


def _raise_with_secret_in_locals() -> None:
    api_token = SECRET  # noqa: F841 - the point: a token held in a local of a crashing frame
    raise RuntimeError("boom from a handler")


class CrashingApp(AstroTuiApp):
    BINDINGS = [("x", "crash", "")]

    def action_crash(self) -> None:
        _raise_with_secret_in_locals()


class DefaultApp(App):
    """Textual's own crash report, for comparison: proves the check below can fail."""

    BINDINGS = [("x", "crash", "")]

    def action_crash(self) -> None:
        _raise_with_secret_in_locals()


async def crash_report(app: App) -> str:
    """What the app would print on exit after the crash (its `_exit_renderables`)."""
    captured: list = []
    original = app._print_error_renderables

    def capture() -> None:
        captured.extend(app._exit_renderables)
        app._exit_renderables.clear()

    app._print_error_renderables = capture  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("x")
            await pilot.pause()
    assert original is not None
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    for renderable in captured:
        console.print(renderable)
    return out.getvalue()


async def test_textual_default_report_would_leak_the_token():
    report = await crash_report(DefaultApp())
    assert SECRET in report


async def test_our_crash_report_shows_the_error_but_no_locals():
    report = await crash_report(CrashingApp(FakeDeployment().connect))
    assert "RuntimeError" in report and "boom from a handler" in report
    assert SECRET not in report
