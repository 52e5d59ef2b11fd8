"""The API layer must never import Textual (DESIGN.md: data flows one way)."""

import subprocess
import sys


def test_importing_the_api_layer_does_not_import_textual():
    code = (
        "import astro_tui.airflow, astro_tui.airflow.logs, sys; "
        "bad = sorted(m for m in sys.modules if m.startswith('textual')); "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
