"""astro_tui.config: profiles, precedence, secret sources, URL rules, file safety."""

from __future__ import annotations

import os
import ssl
import stat
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import certifi
import pytest

from astro_tui import config as cfg
from astro_tui.config import (
    Config,
    ConfigError,
    Profile,
    check_transport_security,
    config_path,
    config_permission_warning,
    describe_secret_source,
    dump_toml,
    is_literal_secret,
    load_config,
    normalize_url,
    profile_warnings,
    resolve_profile,
    resolve_secret,
    save_config,
    tls_verify,
)

TOKEN = "tok-9f8e7d6c5b4a"  # a value that must never show up in reprs or messages


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "config.toml"


@pytest.fixture
def env(cfg_file: Path) -> dict[str, str]:
    return {"ASTRO_TUI_CONFIG": str(cfg_file)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


TWO_PROFILES = """
default_profile = "prod"
[profiles.prod]
url = "https://prod.example.com/api/v2"
auth = "token"
secret = "env:PROD_TOKEN"
poll_seconds = 10
[profiles.local]
url = "http://localhost:8080"
auth = "password"
username = "admin"
secret = "cmd:printf admin"
read_only = true
"""


# --- URL normalization ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("myorg.astronomer.run/d8fe2wmv/api/v1", "https://myorg.astronomer.run/d8fe2wmv"),
        ("https://myorg.astronomer.run/d8fe2wmv/api/v2/", "https://myorg.astronomer.run/d8fe2wmv"),
        ("https://myorg.astronomer.run/d8fe2wmv/home?orgId=cl123", "https://myorg.astronomer.run/d8fe2wmv"),
        ("https://myorg.astronomer.run/d8fe2wmv/", "https://myorg.astronomer.run/d8fe2wmv"),
        ("https://MyOrg.Astronomer.run/d8fe2wmv#frag", "https://myorg.astronomer.run/d8fe2wmv"),
        ("https://h.example/d/api/v1/dags/x?limit=1", "https://h.example/d"),
        ("http://localhost:8080/home?x=1", "http://localhost:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("  http://127.0.0.1:28080/api/v2  ", "http://127.0.0.1:28080"),
        ("HTTP://[::1]:8080/api/v1", "http://[::1]:8080"),
        ("airflow.internal:8443", "https://airflow.internal:8443"),
        ("https://h.example/apiary", "https://h.example/apiary"),  # not an /api/vN segment
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "ftp://h.example", "https://h:99999", "https:///path"])
def test_normalize_url_rejects(raw: str) -> None:
    with pytest.raises(ConfigError):
        normalize_url(raw)


def test_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as err:
        normalize_url(f"https://admin:{TOKEN}@h.example/")
    assert TOKEN not in str(err.value)


# --- environment only -----------------------------------------------------------------------


def test_astro_env_only(env: dict[str, str]) -> None:
    env |= {"ASTRO_AIRFLOW_URL": "myorg.astronomer.run/d8fe2wmv", "ASTRO_API_TOKEN": TOKEN}
    p = resolve_profile(env=env)
    assert (p.name, p.url, p.auth, p.secret) == (
        "env", "https://myorg.astronomer.run/d8fe2wmv", "token", "env:ASTRO_API_TOKEN")
    assert TOKEN not in repr(p) and TOKEN not in str(p)
    assert resolve_secret(p.secret, env=env) == TOKEN


def test_oss_env_password_and_token(env: dict[str, str]) -> None:
    base = env | {"AIRFLOW_API_URL": "http://localhost:8080"}
    p = resolve_profile(env=base | {"AIRFLOW_USERNAME": "admin", "AIRFLOW_PASSWORD": TOKEN})
    assert (p.auth, p.username, p.secret) == ("password", "admin", "env:AIRFLOW_PASSWORD")
    p = resolve_profile(env=base | {"AIRFLOW_AUTH_TOKEN": TOKEN, "AIRFLOW_USERNAME": "x",
                                    "AIRFLOW_PASSWORD": "y"})
    assert (p.auth, p.secret) == ("token", "env:AIRFLOW_AUTH_TOKEN")
    assert resolve_profile(env=base).auth == "none"
    with pytest.raises(ConfigError, match="AIRFLOW_PASSWORD"):
        resolve_profile(env=base | {"AIRFLOW_USERNAME": "admin"})


@pytest.mark.parametrize("var", ["ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN"])
def test_an_empty_token_variable_is_named(env: dict[str, str], var: str) -> None:
    """Issue 18, papercut 4: an empty ASTRO_API_TOKEN was ignored, then "auth none" failed."""
    env |= {"ASTRO_AIRFLOW_URL": "https://x.astronomer.run/abc", var: ""}
    with pytest.raises(ConfigError, match=f"{var} is set but empty"):
        resolve_profile(env=env)
    env |= {var: "  "}
    with pytest.raises(ConfigError, match=f"{var} is set but empty"):
        resolve_profile(env=env)


def test_nothing_configured(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="no Airflow configured"):
        resolve_profile(env=env)


def test_config_path_default_and_override() -> None:
    assert config_path({}).parts[-2:] == ("astro-tui", "config.toml")
    assert config_path({"ASTRO_TUI_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")


# --- precedence -----------------------------------------------------------------------------


def test_file_default_profile(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES)
    p = resolve_profile(env=env)
    assert (p.name, p.url, p.secret, p.poll_seconds) == (
        "prod", "https://prod.example.com", "env:PROD_TOKEN", 10.0)
    local = resolve_profile(cli_profile="local", env=env)
    assert (local.auth, local.username, local.read_only) == ("password", "admin", True)


def test_notify_and_its_command_from_the_profile_and_the_flag(cfg_file: Path,
                                                              env: dict[str, str]) -> None:
    write(cfg_file, '[profiles.p]\nurl = "https://x.example.com"\nnotify = "failures"\n'
                    'notify_command = "notify-send-json --urgent"\n')
    p = resolve_profile(env=env)
    assert (p.notify, p.notify_command) == ("failures", "notify-send-json --urgent")
    assert resolve_profile(env=env, notify="all").notify == "all"  # --notify wins
    assert resolve_profile(cli_url="https://y.example.com", env=env).notify == "failures"


def test_env_beats_file_default(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES)
    env |= {"ASTRO_AIRFLOW_URL": "https://other.astronomer.run/abc", "ASTRO_API_TOKEN": TOKEN}
    p = resolve_profile(env=env)
    assert (p.name, p.url, p.secret) == ("env", "https://other.astronomer.run/abc",
                                         "env:ASTRO_API_TOKEN")


def test_env_credentials_alone_replace_default_profile_credentials(
    cfg_file: Path, env: dict[str, str]
) -> None:
    write(cfg_file, TWO_PROFILES)
    p = resolve_profile(env=env | {"ASTRO_API_TOKEN": TOKEN})
    assert (p.name, p.url, p.auth, p.secret) == (
        "prod", "https://prod.example.com", "token", "env:ASTRO_API_TOKEN")


def test_explicit_profile_flag_beats_env(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES)
    env |= {"ASTRO_AIRFLOW_URL": "https://other.astronomer.run/abc", "ASTRO_API_TOKEN": TOKEN}
    p = resolve_profile(cli_profile="prod", env=env)
    assert (p.url, p.secret) == ("https://prod.example.com", "env:PROD_TOKEN")


def test_cli_flags_beat_everything(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES)
    env |= {"ASTRO_AIRFLOW_URL": "https://other.astronomer.run/abc", "ASTRO_API_TOKEN": TOKEN}
    p = resolve_profile(cli_url="https://cli.example.com/api/v1", read_only=True, env=env)
    assert (p.url, p.secret, p.read_only) == ("https://cli.example.com", "env:ASTRO_API_TOKEN", True)
    p = resolve_profile(cli_url="https://cli.example.com", cli_profile="local", read_only=False,
                        env=env)
    assert (p.url, p.username, p.read_only) == ("https://cli.example.com", "admin", False)
    assert resolve_profile(cli_url="http://127.0.0.1:8080", env={"ASTRO_TUI_CONFIG": "/nope"}).auth \
        == "none"


def test_unknown_profile(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES)
    with pytest.raises(ConfigError, match=r"unknown profile 'nope' \(known: local, prod\)"):
        resolve_profile(cli_profile="nope", env=env)


def test_default_profile_rules(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, TWO_PROFILES.replace('default_profile = "prod"', ""))
    with pytest.raises(ConfigError, match="no default_profile"):
        resolve_profile(env=env)
    write(cfg_file, '[profiles.only]\nurl = "https://only.example"\n')
    assert resolve_profile(env=env).name == "only"
    write(cfg_file, 'default_profile = "gone"\n[profiles.only]\nurl = "https://only.example"\n')
    with pytest.raises(ConfigError, match="'gone' is not defined"):
        resolve_profile(env=env)


# --- bad files ------------------------------------------------------------------------------


def test_malformed_toml_is_one_line_with_position(cfg_file: Path, env: dict[str, str]) -> None:
    write(cfg_file, '[profiles.prod]\nurl = "https://x\nauth = token\n')
    with pytest.raises(ConfigError) as err:
        resolve_profile(env=env)
    msg = str(err.value)
    assert "\n" not in msg and str(cfg_file) in msg and "line 2" in msg and "column" in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[profiles.p]\nurl = "https://x"\nauth = "kerberos"\n', "unknown auth kind 'kerberos'"),
        ('[profiles.p]\nauth = "none"\n', "missing 'url'"),
        ('[profiles.p]\nurl = "https://x"\nverify_tls = "no"\n', "'verify_tls' must be true or false"),
        ('[profiles.p]\nurl = "https://x"\npoll_seconds = true\n', "'poll_seconds' must be a number"),
        ('[profiles.p]\nurl = "https://x"\npoll_seconds = 0\n', "poll_seconds must be a positive"),
        ('[profiles.p]\nurl = "https://x"\nread_onyl = true\n', "unknown key 'read_onyl'"),
        ('[profiles.p]\nurl = "https://x"\nauth = "token"\n', "needs a secret"),
        ('[profiles.p]\nurl = "https://x"\nauth = "basic"\nsecret = "env:P"\n', "needs a username"),
        ('[profiles.p]\nurl = "https://x"\nnotify = "loud"\n', "notify must be one of off,"),
        ('[profiles.p]\nurl = "https://x"\nnotify_command = 3\n', "'notify_command' must be a"),
        ('profiles = 3\n', "'profiles' must be a table"),
        ('default_profile = 3\n', "'default_profile' must be a string"),
        (b"\xff\xfe", "not valid UTF-8"),
    ],
)
def test_invalid_config_errors(cfg_file: Path, body: str | bytes, needle: str) -> None:
    cfg_file.parent.mkdir(parents=True)
    cfg_file.write_bytes(body if isinstance(body, bytes) else body.encode())
    with pytest.raises(ConfigError) as err:
        load_config(cfg_file)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)  # a directory: IsADirectoryError, even as root


def test_missing_file_is_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.toml")
    assert config.profiles == {} and config.default_profile is None


# --- saving ---------------------------------------------------------------------------------


def test_save_is_0600_atomic_and_round_trips(
    cfg_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = {
        "prod": Profile("prod", "https://p.example", "token", secret=TOKEN, poll_seconds=2.5),
        "odd name.x": Profile("odd name.x", "http://localhost:8080", "basic", username='a"b\\c',
                              secret="cmd:pass show 'x y'", verify_tls=False, read_only=True,
                              ca_bundle="/etc/ssl/ca.pem", allow_insecure_http=True),
    }
    seen_tmp_modes: list[int] = []
    real_replace = os.replace

    def spy_replace(src: str | Path, dst: str | Path) -> None:
        assert Path(src).parent == Path(dst).parent
        seen_tmp_modes.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(cfg.os, "replace", spy_replace)
    old_umask = os.umask(0)  # even a permissive umask must give 0600
    try:
        written = save_config(Config(cfg_file, profiles, "prod", {"theme": "dark"}))
    finally:
        os.umask(old_umask)
    assert written == cfg_file
    assert seen_tmp_modes == [0o600]
    assert stat.S_IMODE(cfg_file.stat().st_mode) == 0o600
    assert [p.name for p in cfg_file.parent.iterdir()] == ["config.toml"]  # no temp left behind
    assert config_permission_warning(cfg_file) is None
    loaded = load_config(cfg_file)
    assert loaded.profiles == profiles
    assert loaded.default_profile == "prod" and loaded.extra == {"theme": "dark"}


def test_save_failure_is_config_error(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "x")
    with pytest.raises(ConfigError, match="cannot write"):
        save_config(Config(blocker / "config.toml"))


def test_permission_warning(cfg_file: Path) -> None:
    write(cfg_file, "")
    cfg_file.chmod(0o644)
    warning = config_permission_warning(cfg_file)
    assert warning and "0644" in warning and "chmod 600" in warning
    cfg_file.chmod(0o620)
    assert config_permission_warning(cfg_file)
    cfg_file.chmod(0o600)
    assert config_permission_warning(cfg_file) is None
    assert config_permission_warning(cfg_file.parent / "missing") is None


def test_dump_toml_round_trip() -> None:
    data = {"a": 'q"b\\s\n\t\x01\x7fé🚀', "n": 3, "f": -0.5, "inf": float("inf"), "b": False,
            "l": [1, "x"], "t": {"x.y": {"z": True}, "empty": {}}}
    assert tomllib.loads(dump_toml(data)) == data


# --- secret sources -------------------------------------------------------------------------


def test_secret_from_env() -> None:
    assert resolve_secret("env:MY_TOK", env={"MY_TOK": TOKEN}) == TOKEN
    with pytest.raises(ConfigError, match="MY_TOK is not set"):
        resolve_secret("env:MY_TOK", env={})
    with pytest.raises(ConfigError):
        resolve_secret("env:", env={})


def test_secret_from_command() -> None:
    assert resolve_secret("cmd:printf '%s\\n' 'tok en'") == "tok en"
    assert resolve_secret("cmd:echo $HOME;id") == "$HOME;id"  # no shell


def test_secret_command_failure_hides_output() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_secret(f"cmd:sh -c 'echo {TOKEN}; echo {TOKEN} >&2; exit 3'")
    assert "exit status 3" in str(err.value) and TOKEN not in str(err.value)
    with pytest.raises(ConfigError, match="not found"):
        resolve_secret("cmd:/nonexistent/astro-secret-helper")
    with pytest.raises(ConfigError, match="printed nothing"):
        resolve_secret("cmd:true")
    with pytest.raises(ConfigError, match="cannot be parsed"):
        resolve_secret("cmd:echo 'unbalanced")
    with pytest.raises(ConfigError):
        resolve_secret("cmd:   ")


def test_secret_command_timeout_kills_the_process_group() -> None:
    start = time.monotonic()
    with pytest.raises(ConfigError, match="timed out"):
        resolve_secret("cmd:sh -c 'sleep 30 & sleep 30'", timeout=0.3)
    assert time.monotonic() - start < 5


def test_literal_secret() -> None:
    assert resolve_secret(TOKEN) == TOKEN
    assert is_literal_secret(TOKEN)
    assert not is_literal_secret("env:X") and not is_literal_secret("cmd:x")
    assert not is_literal_secret(None)
    with pytest.raises(ConfigError):
        resolve_secret(None)


def test_repr_never_shows_a_secret() -> None:
    p = Profile("p", "https://x", "basic", username="u", secret=TOKEN)
    assert TOKEN not in repr(p) and TOKEN not in str(p) and TOKEN not in f"{p}"
    assert "secret='***'" in repr(p)
    assert describe_secret_source(f"cmd:echo {TOKEN}") == "cmd:echo \u2026"
    assert describe_secret_source("env:ASTRO_API_TOKEN") == "env:ASTRO_API_TOKEN"
    assert "stores its secret literally" in profile_warnings(p)[0]
    assert TOKEN not in repr(Config(Path("x"), {"p": p}))


# --- transport security ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://localhost:8080", "http://127.0.0.1:8080", "http://127.8.9.10",
            "http://[::1]:8080", "http://[::ffff:127.0.0.1]:8080", "https://airflow.example.com"])
def test_transport_allowed(url: str) -> None:
    check_transport_security(Profile("p", url, "token", secret="env:T"))


@pytest.mark.parametrize("url", ["http://airflow.example.com", "http://10.0.0.5:8080",
                                 "http://localhost.evil.example", "http://[::2]"])
def test_plain_http_to_remote_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        check_transport_security(Profile("p", url, "password", username="u", secret="env:T"))
    check_transport_security(Profile("p", url, "none"))
    check_transport_security(Profile("p", url, "token", secret="env:T", allow_insecure_http=True))


def test_resolve_profile_enforces_transport_and_ca_bundle(
    cfg_file: Path, env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="plain http"):
        resolve_profile(env=env | {"AIRFLOW_API_URL": "http://10.1.2.3:8080",
                                   "AIRFLOW_AUTH_TOKEN": TOKEN})
    write(cfg_file, '[profiles.p]\nurl = "https://x"\nca_bundle = "~/no-such-ca.pem"\n')
    with pytest.raises(ConfigError, match="ca_bundle .* is not a file"):
        resolve_profile(env=env)
    bad = write(tmp_path / "bad.pem", "x")
    write(cfg_file, f'[profiles.p]\nurl = "https://x"\nca_bundle = "{bad}"\n')
    with pytest.raises(ConfigError, match=r"^profile 'p': ca_bundle .* is not a PEM CA bundle"):
        resolve_profile(env=env)
    ca = write(tmp_path / "ca.pem", Path(certifi.where()).read_text())
    write(cfg_file, f'[profiles.p]\nurl = "https://x"\nca_bundle = "{ca}"\n')
    profile = resolve_profile(env=env)
    assert profile.ca_bundle == str(ca)
    context = tls_verify(profile)
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    # naming a CA keeps verification on, even next to verify_tls = false (and no warning then)
    assert tls_verify(replace(profile, verify_tls=False)) is not False
    assert profile_warnings(replace(profile, verify_tls=False)) == []
    assert tls_verify(replace(profile, ca_bundle=None)) is True
    assert tls_verify(replace(profile, ca_bundle=None, verify_tls=False)) is False
