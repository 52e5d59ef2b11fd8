"""Several deployments in one app (issue 17), against two recorded fake deployments: the
deployments strip, the merged inbox with its deployment column, one deployment down while the
other keeps updating, and switching live (d, Enter on a strip row or on another's inbox row)."""

from __future__ import annotations

from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.screens.overview import OverviewScreen
from astro_tui.watch.events import DagList, HealthOf, ImportErrorsOf, InboxOf
from astro_tui.watch.feeds import BACKGROUND_DAGS_SECONDS, BACKGROUND_RUNS_SECONDS
from astro_tui.watch.fleet import Deployment
from astro_tui.watch.settings import Settings
from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app

FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"  # example_fail: failed, "boom" failed
LONG_RUN = "manual__2026-11-25T10:06:45.775837+00:00"  # example_long: running


def fleet_app(prod: FakeDeployment, dev: FakeDeployment):
    settings = Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2, log_seconds=0.2)
    return make_app(prod, landing="overview", settings=settings,
                    others=[Deployment("dev", dev.connect, settings)])


async def both_shown(pilot, app) -> OverviewScreen:
    ov = app.overview
    await wait_for(pilot, lambda: ov.inbox_table.row_count == 4 and ov.health is not None
                   and "dev" in ov.fleet_view.health, what="both deployments' inboxes")
    return ov


async def test_the_strip_and_the_merged_inbox_show_every_deployment():
    prod, dev = FakeDeployment(), FakeDeployment()
    dev.version = {**dev.version, "version": "3.1.7"}
    dev.health["scheduler"]["status"] = "unhealthy"
    app = fleet_app(prod, dev)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = await both_shown(pilot, app)
        strip = ov.fleet_view.table
        assert strip.keys == ["test", "dev"]
        await wait_for(pilot, lambda: strip.cells("dev")[2].plain == "3.1.7", what="versions")
        test_row, dev_row = strip.cells("test"), strip.cells("dev")
        assert test_row[0].plain == "▶" and test_row[2].plain == "3.3.2"
        assert test_row[3].plain == "✔ healthy" and dev_row[3].plain.startswith("⚠ scheduler")
        assert (test_row[4].plain, test_row[5].plain) == ("1", "1")  # running, failed
        # the inbox: failed runs of both first, then running ones; each with its deployment
        keys = ov.inbox_table.keys
        assert keys == [f"failed example_fail {FAIL_RUN}", f"@dev failed example_fail {FAIL_RUN}",
                        f"active example_long {LONG_RUN}", f"@dev active example_long {LONG_RUN}"]
        assert [ov.inbox_table.cells(k)[1].plain for k in keys] == ["test", "dev"] * 2
        assert ov.panes["inbox"].context.startswith("2 failed in 24 h · 2 running")


async def test_one_deployment_down_marks_only_its_row_and_the_other_keeps_updating():
    prod, dev = FakeDeployment(), FakeDeployment()
    app = fleet_app(prod, dev)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = await both_shown(pilot, app)
        dev.down = True
        app.fleet.watchers["dev"].refresh()
        await wait_for(pilot, lambda: ov.fleet_view.table.cells("dev")[3].plain.startswith(
            "✖ down"), what="dev marked down")
        # prod's run ends: its inbox row goes, dev's (stale) rows stay
        prod.set_run_state("example_long", LONG_RUN, "success")
        app.watcher.refresh()
        await wait_for(pilot, lambda: f"active example_long {LONG_RUN}" not in
                       ov.inbox_table.keys, what="prod's inbox to update")
        assert f"@dev active example_long {LONG_RUN}" in ov.inbox_table.keys
        assert ov.fleet_view.table.cells("test")[3].plain == "✔ healthy"


async def test_d_switches_live_and_the_old_one_stays_watched_at_overview_cost():
    prod, dev = FakeDeployment(), FakeDeployment()
    app = fleet_app(prod, dev)
    async with app.run_test(size=(120, 40)) as pilot:
        await both_shown(pilot, app)
        fleet = app.fleet
        assert fleet.held("dev") and not fleet.held("test")
        # in the background: the DAG list and the runs changed polled seldom
        assert fleet.watchers["dev"].age("dags")[1] == BACKGROUND_DAGS_SECONDS
        assert fleet.watchers["dev"].age("changes")[1] == BACKGROUND_RUNS_SECONDS
        assert fleet.watchers["test"].age("changes")[1] == app.settings.runs_seconds
        assert fleet.watchers["dev"].age("health")[1] == 60.0
        assert fleet.watchers["dev"].age("inbox")[1] == 60.0
        await pilot.press("d")
        await wait_for(pilot, lambda: fleet.current == "dev" and isinstance(
            app.screen, OverviewScreen) and app.screen is app.overview, what="dev's overview")
        assert fleet.held("test") and not fleet.held("dev")
        assert fleet.watchers["dev"].age("changes")[1] == app.settings.runs_seconds
        assert fleet.watchers["dev"].age("dags")[1] == app.settings.dags_seconds
        assert fleet.watchers["test"].age("changes")[1] == BACKGROUND_RUNS_SECONDS
        assert fleet.watchers["dev"].age("health")[1] == app.settings.health_seconds
        assert app.overview.fleet_view.table.cells("dev")[0].plain == "▶"
        # the old current deployment: polled for the overview's topics only
        await wait_for(pilot, lambda: app.get_screen("overview").is_current is False,
                       what="prod's overview off screen")
        # (its drill-down never selected anything: no runs, tasks or log topic)
        assert {type(t) for t in fleet.watchers["test"].topics()} <= {
            DagList, HealthOf, InboxOf, ImportErrorsOf}
        await pilot.press("D")
        await wait_for(pilot, lambda: fleet.current == "test", what="back to prod")


async def test_enter_on_another_deployments_failed_run_opens_its_drill_down():
    prod, dev = FakeDeployment(), FakeDeployment()
    app = fleet_app(prod, dev)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = await both_shown(pilot, app)
        ov.pane_layout.activate("inbox")
        assert ov.inbox_table.select_key(f"@dev failed example_fail {FAIL_RUN}")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.fleet.current == "dev" and isinstance(
            app.screen, MainScreen), what="dev's drill-down")
        main = app.main
        assert main.watcher is app.fleet.watchers["dev"]
        await wait_for(pilot, lambda: main.selection.run_id == FAIL_RUN, what="the run")
        assert main.selection.dag_id == "example_fail"


async def test_the_palette_switches_deployment():
    prod, dev = FakeDeployment(), FakeDeployment()
    app = fleet_app(prod, dev)
    async with app.run_test(size=(80, 24)) as pilot:
        await both_shown(pilot, app)
        await pilot.press("ctrl+p")
        for key in "switch to dep":
            await pilot.press("space" if key == " " else key)
        await wait_for(pilot, lambda: "Switch to deployment dev" in str(
            [o.prompt for o in app.screen.query("CommandList").first()._options]
        ) if app.screen.query("CommandList") else False, what="the palette's hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.fleet.current == "dev", what="dev current")


async def test_the_palette_adds_a_discovered_astro_deployment(monkeypatch, tmp_path):
    """Against the fake Astro API v1 (tests/fakes/astro_api.py): "add astro" lists the
    discovered deployments; choosing one watches it at once (a strip appears, one app) and
    writes its profile (no token) to the config file."""
    import os
    import stat

    from astro_tui.config import load_config
    from tests.fakes.astro_api import FakeAstroApi

    api = FakeAstroApi()
    api.tokens["astro-OrgToken-test"] = None
    api.start()
    try:
        for var in [v for v in os.environ if v.startswith(("ASTRO_", "AIRFLOW_"))]:
            monkeypatch.delenv(var)
        config = tmp_path / "config.toml"
        monkeypatch.setenv("ASTRO_TUI_CONFIG", str(config))
        monkeypatch.setenv("ASTRO_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("ASTRO_API_URL", api.url)
        monkeypatch.setenv("ASTRO_API_TOKEN", "astro-OrgToken-test")
        monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
        app = make_app(FakeDeployment(), landing="overview")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.overview.inbox_table.row_count == 2,
                           what="the overview")
            assert app.overview.fleet_view is None  # one deployment: no strip
            await pilot.press("ctrl+p")
            for key in "add astro etl":
                await pilot.press("space" if key == " " else key)
            await wait_for(pilot, lambda: app.screen.query("CommandList") and any(
                "etl-prod" in str(o.prompt)
                for o in app.screen.query("CommandList").first()._options),
                timeout=15, what="the discovered deployment in the palette")
            await pilot.press("enter")
            # (two deployments are called etl-prod: the workspace tells them apart)
            name = "data-platform-etl-prod"
            await wait_for(pilot, lambda: name in app.fleet.deployments, what="it in the fleet")
            await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen)
                           and app.screen.fleet_view is not None
                           and app.screen.fleet_view.table.keys == ["test", name],
                           what="the overview made again with the strip")
            assert app.fleet.held(name)
        saved = load_config().profiles[name]
        assert saved.secret == "env:ASTRO_API_TOKEN" and saved.url.startswith("https://")
        assert "astro-OrgToken-test" not in config.read_text()
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
    finally:
        api.stop()
