"""Snapshot tests of the trigger modal at 80x24 and 120x40: a valid conf, an invalid conf, and a
server error shown inline. The modal is hosted by a bare app (not the main screen), so these
images change only when the modal does. Regenerate with `--snapshot-update`."""

from __future__ import annotations

import pytest
from textual.app import App

from astro_tui.tui.screens.trigger import TriggerScreen
from tests.conftest import wait_for
from tests.ui.fake import NOW, FakeDeployment

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


class Host(App):
    """Just the modal, over an empty screen, with the fake deployment's client."""

    def __init__(self, fake: FakeDeployment, dag_id: str = "example_params") -> None:
        super().__init__()
        self.fake, self.dag_id = fake, dag_id
        self.read_only = False

    async def on_mount(self) -> None:
        client = await self.fake.connect()
        paused = self.fake.details[self.dag_id]["is_paused"]
        screen = TriggerScreen(client, self.dag_id, paused=paused, now=lambda: NOW)
        screen.highlight_json = False  # the same image with or without tree-sitter
        self.push_screen(screen)


async def _ready(pilot) -> TriggerScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TriggerScreen)
                   and pilot.app.screen.loaded, what="the modal")
    await pilot.pause(0.1)
    return pilot.app.screen


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_valid_conf(snap_compare, size):
    assert snap_compare(Host(FakeDeployment()), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_invalid_conf_on_a_paused_dag(snap_compare, size):
    async def run_before(pilot):
        screen = await _ready(pilot)
        screen.editor.load_text('{\n  "lines": 10,\n  "oops"\n}')
        screen.editor.move_cursor((2, 8))
        await pilot.pause(0.1)

    fake = FakeDeployment()
    assert snap_compare(Host(fake, "example_biglog"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_server_error_inline(snap_compare, size):
    async def run_before(pilot):
        screen = await _ready(pilot)
        screen.editor.load_text('{\n  "name": "world",\n  "count": "x"\n}')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.server_error is not None, what="the 400")
        await pilot.pause(0.1)

    assert snap_compare(Host(FakeDeployment()), terminal_size=size, run_before=run_before)
