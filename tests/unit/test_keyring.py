"""Secrets in the OS keyring (the optional `keyring` extra): `secret = "keyring:<service>/<name>"`,
`profiles add --keyring`, and one clear line without the extra.

Every test that reaches the keyring uses keyrings.alt's PlaintextKeyring in a temporary file, set
with `keyring.set_keyring` (never the user's real keyring); afterwards the fail backend is set.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from astro_tui.config import (
    ConfigError,
    describe_secret_source,
    is_literal_secret,
    load_config,
    resolve_secret,
)
from tests.unit.test_cli import TtyIn, assert_one_line_error, cli_run

SECRET = "kr-Secret-7c6b5a4d3e2f"


@pytest.fixture
def ring(tmp_path):
    """A keyring in a temporary file, for this test only."""
    import keyring
    from keyring.backends import fail
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def no_keyring(monkeypatch):
    """As if the extra were not installed: `import keyring` raises ImportError."""
    monkeypatch.setitem(sys.modules, "keyring", None)


@pytest.fixture
def env(monkeypatch, tmp_path):
    import os

    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_a_keyring_source_resolves_from_the_keyring(ring):
    ring.set_password("astro-tui", "prod", SECRET)
    assert resolve_secret("keyring:astro-tui/prod") == SECRET
    assert ring.get_password("astro-tui", "prod") == SECRET  # the file backend really holds it
    # the name may contain '/': only the first one splits
    ring.set_password("svc", "team/prod", SECRET + "2")
    assert resolve_secret("keyring:svc/team/prod") == SECRET + "2"
    assert describe_secret_source("keyring:svc/team/prod") == "keyring:svc/team/prod"
    assert not is_literal_secret("keyring:svc/team/prod")


def test_a_missing_entry_is_one_line_saying_how_to_store_it(ring):
    with pytest.raises(ConfigError) as err:
        resolve_secret("keyring:astro-tui/nope")
    text = str(err.value)
    assert "no secret in the keyring" in text and "'astro-tui'" in text and "'nope'" in text
    assert "profiles add --keyring astro-tui/nope" in text and "\n" not in text


@pytest.mark.parametrize("source", ["keyring:", "keyring:svc", "keyring:/name", "keyring:svc/"])
def test_a_malformed_keyring_source_is_refused_when_the_file_loads(env, source):
    (env / "config.toml").write_text(f'[profiles.p]\nurl = "https://x.example.com"\n'
                                      f'secret = "{source}"\n')
    with pytest.raises(ConfigError, match="must be keyring:<service>/<name>"):
        load_config(env / "config.toml")


def test_without_the_extra_the_secret_fails_with_one_line_naming_it(no_keyring):
    with pytest.raises(ConfigError) as err:
        resolve_secret("keyring:astro-tui/prod")
    assert str(err.value) == ("secret source keyring:astro-tui/prod needs the keyring extra:"
                              " pip install 'astro-tui[keyring]'")


def test_without_the_extra_a_command_with_that_profile_fails_with_one_line(env, capsys,
                                                                            no_keyring):
    (env / "config.toml").write_text('[profiles.p]\nurl = "https://x.example.com"\n'
                                     'secret = "keyring:astro-tui/p"\n')
    # the file loads (the keyring is needed only to connect) …
    assert load_config(env / "config.toml").profiles["p"].secret == "keyring:astro-tui/p"
    # … and connecting fails before any request, with exit 2 and one line
    r = cli_run(capsys, "dags", "--profile", "p")
    assert_one_line_error(r, 2, "needs the keyring extra", "astro-tui[keyring]")


def test_a_backend_failure_is_one_line(monkeypatch):
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(ConfigError, match="no OS keyring is available"):
        resolve_secret("keyring:astro-tui/prod")


def test_profiles_add_keyring_stores_the_secret_there_not_in_the_file(env, capsys, monkeypatch,
                                                                       ring):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    r = cli_run(capsys, "profiles", "add", "--name", "prod", "--url", "https://af.example.com",
                "--secret-stdin", "--keyring", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["secret"] == "keyring:astro-tui/prod"
    text = (env / "config.toml").read_text()
    assert 'secret = "keyring:astro-tui/prod"' in text and SECRET not in text
    assert stat.S_IMODE((env / "config.toml").stat().st_mode) == 0o600
    assert ring.get_password("astro-tui", "prod") == SECRET
    assert SECRET not in r.out + r.err and "warning" not in r.err
    assert resolve_secret(load_config(env / "config.toml").profiles["prod"].secret) == SECRET


def test_profiles_add_keyring_with_a_service_and_name(env, capsys, monkeypatch, ring):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    r = cli_run(capsys, "profiles", "add", "--name", "p", "--url", "https://af.example.com",
                "--secret-stdin", "--keyring", "corp/airflow-p")
    assert r.code == 0, r.err
    assert ring.get_password("corp", "airflow-p") == SECRET
    assert 'secret = "keyring:corp/airflow-p"' in (env / "config.toml").read_text()


def test_profiles_add_interactive_offers_the_keyring_for_a_typed_secret(env, capsys, monkeypatch,
                                                                          ring):
    # name, url, auth, secret source (empty: type it), keyring? (default yes), read-only? no
    monkeypatch.setattr("sys.stdin", TtyIn("dev\nhttps://dev.example.com\ntoken\n\n\nn\n"))
    monkeypatch.setattr("astro_tui.commands.profiles._keyring_installed", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: SECRET)
    r = cli_run(capsys, "profiles", "add")
    assert r.code == 0, r.err
    assert "Store it in the OS keyring" in r.err and SECRET not in r.out + r.err
    assert ring.get_password("astro-tui", "dev") == SECRET
    assert SECRET not in (env / "config.toml").read_text()


@pytest.mark.parametrize("argv, needle", [
    (["--keyring"], "--keyring needs the secret"),
    (["--keyring", "--secret-source", "env:X"], "--secret-source names one"),
    (["--keyring", "--secret-stdin", "--auth", "none"], "no secret to store"),
])
def test_profiles_add_keyring_refuses_nonsense(env, capsys, monkeypatch, ring, argv, needle):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n" if "--secret-stdin" in argv
                                                 else ""))
    r = cli_run(capsys, "profiles", "add", "--name", "p", "--url", "https://x.example.com", *argv)
    assert_one_line_error(r, 2, needle)
    assert not (env / "config.toml").exists()
    assert ring.get_password("astro-tui", "p") is None


def test_profiles_add_keyring_without_the_extra(env, capsys, monkeypatch, no_keyring):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    monkeypatch.setattr("astro_tui.commands.profiles._keyring_installed", lambda: False)
    r = cli_run(capsys, "profiles", "add", "--name", "p", "--url", "https://x.example.com",
                "--secret-stdin", "--keyring")
    assert_one_line_error(r, 2, "needs the keyring extra", "astro-tui[keyring]")
    assert not (env / "config.toml").exists()


def test_keyring_is_not_imported_at_startup():
    code = ("import sys, astro_tui.cli as c, astro_tui.config, astro_tui.session\n"
            "c.build_parser()\n"
            "assert 'keyring' not in sys.modules, 'keyring imported at startup'\n"
            "assert 'astro_tui.astro.platform' not in sys.modules, 'astro code at startup'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
