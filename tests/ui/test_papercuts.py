"""Issue 18's papercuts that show in the TUI (the CLI's are in tests/unit/test_cli.py and
test_config.py): an authentication failure is not called "down"."""

from __future__ import annotations

from tests.conftest import status, wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.test_main_screen import loaded


async def test_an_auth_failure_is_not_allowed_with_a_hint_not_down():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        fake.errors[("GET", "/api/v2/dags")] = (401, {"detail": "Token expired"})
        app.action_refresh_data()
        await wait_for(pilot, lambda: "not allowed" in status(app), what="the auth words")
        line = status(app)
        assert "token expired or wrong password?" in line and "down" not in line
        fake.errors.clear()
        fake.down = True
        app.action_refresh_data()
        await wait_for(pilot, lambda: "✖ down: " in status(app), what="down, for a real outage")
