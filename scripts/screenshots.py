"""Write screenshots/*.svg (and *.png when rsvg-convert is installed) from the app itself.

The app runs against the fake deployment recorded from a real Airflow 3 (tests/ui/fake.py), at a
fixed size and a fixed clock, so the pictures are reproducible.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.fake import FakeDeployment, make_app  # noqa: E402
from tests.ui.test_main_screen import wait_for  # noqa: E402

OUT = ROOT / "screenshots"


async def drill(pilot, dag_id: str, task: str) -> None:
    main = pilot.app.main
    await wait_for(pilot, lambda: main.dag_table.row_count == len(main.dags) and main.dags)
    main.dag_table.select_key(dag_id)
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.run_table.row_count > 0)
    await pilot.press("enter")
    await wait_for(pilot, lambda: task in main.tis)
    main.task_table.select_key(task)
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.log_view.ended)
    await pilot.pause(0.3)


async def shoot(name: str, size: tuple[int, int], steps) -> Path:
    app = make_app(FakeDeployment(), clock=lambda: 1000.0)
    async with app.run_test(size=size) as pilot:
        await steps(pilot)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    OUT.mkdir(exist_ok=True)

    async def failed_task(pilot):
        await drill(pilot, "example_fail", "boom")

    async def mapped_compact(pilot):
        await drill(pilot, "example_mapped", "square[1]")

    async def filtered(pilot):
        main_screen = pilot.app.main
        await wait_for(pilot, lambda: main_screen.dag_table.row_count == len(main_screen.dags)
                       and main_screen.dags)
        await pilot.press("slash", *"demo")
        await pilot.pause(0.2)

    async def help_screen(pilot):
        await pilot.pause(0.5)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    shots = [
        await shoot("main-120x40", (120, 40), failed_task),
        await shoot("log-80x24", (80, 24), mapped_compact),
        await shoot("filter-120x40", (120, 40), filtered),
        await shoot("help-80x24", (80, 24), help_screen),
    ]
    converter = shutil.which("rsvg-convert")
    for svg in shots:
        print(svg.relative_to(ROOT))
        if converter:
            png = svg.with_suffix(".png")
            subprocess.run([converter, "-w", "1400", "-o", str(png), str(svg)], check=True)
            print(png.relative_to(ROOT))
    if not converter:
        print("rsvg-convert not found (apt-get install librsvg2-bin fonts-firacode): SVG only")


if __name__ == "__main__":
    asyncio.run(main())
