"""TLS and proxies, end to end: the real CLI (a subprocess) against the real Airflow 3 behind a
TLS terminator with a throwaway CA, directly and through a logging forward proxy.

* Verification is on by default: an untrusted certificate is one plain-words line, exit 1, no
  traceback, and no credential leaves the machine (the handshake fails before any request).
* ``ca_bundle`` (and the standard ``SSL_CERT_FILE``) trust the throwaway CA; ``verify_tls =
  false`` works and warns; a broken ca_bundle is a one-line config error.
* ``HTTPS_PROXY``/``https_proxy``/``ALL_PROXY``/``HTTP_PROXY`` and ``NO_PROXY`` are honoured:
  CONNECT tunnels are logged by the proxy (which never sees the token), NO_PROXY bypasses it. A
  made-up remote host name (airflow.example.com) is routed by the proxy to the local terminator,
  so the remote case runs offline: no DNS, no packets leave 127.0.0.1.
* Credentials over plain http go to loopback only, unless the profile sets allow_insecure_http;
  refused means nothing was sent at all (the proxy saw no request).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest

from astro_tui.airflow.transport import make_http as _make_http
from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from tests.resilience.tlsproxy import ForwardProxy, TlsTerminator, make_pki

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REMOTE = "airflow.example.com"  # never resolved: only the forward proxy knows where it is
PASSWORD_VAR = "ASTRO_TUI_TEST_PASSWORD"
ENV_DROP = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
            "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "ASTRO_TUI_CONFIG"}


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), dns_names=(REMOTE,))


@pytest.fixture(scope="module")
def tls(airflow3, pki):
    t = TlsTerminator(("127.0.0.1", airflow3.port), pki.cert, pki.key).start()
    yield t
    t.stop()


@pytest.fixture(scope="module")
def proxy(tls, airflow3):
    p = ForwardProxy({f"{REMOTE}:443": ("127.0.0.1", tls.port),
                      f"{REMOTE}:80": ("127.0.0.1", airflow3.port)}).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def token(airflow3) -> str:
    """A real Airflow 3 JWT: a secret that must never show up in output or on the wire."""
    resp = httpx.post(f"{airflow3.url}/auth/token", timeout=30,
                      json={"username": airflow3.username, "password": airflow3.password})
    resp.raise_for_status()
    return resp.json()["access_token"]


@pytest.fixture
def cli(tmp_path, proxy):
    """Run ``python -m astro_tui ARGS`` with a clean environment, a config file made of
    ``profiles`` (TOML text) and ``env`` on top; returns (exit code, stdout, stderr)."""
    proxy.clear()
    home = tmp_path / "home"
    home.mkdir()
    cfg = tmp_path / "config.toml"

    def run(*args: str, env: dict[str, str] | None = None, profiles: str = "",
            timeout: float = 60) -> tuple[int, str, str]:
        cfg.write_text(profiles)
        cfg.chmod(0o600)
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("AIRFLOW", "ASTRO")) and k.upper() not in ENV_DROP}
        e.update(HOME=str(home), PYTHONPATH=str(ROOT), ASTRO_TUI_CONFIG=str(cfg),
                 XDG_CONFIG_HOME=str(home / ".config"), NO_COLOR="1", **(env or {}))
        proc = subprocess.run([sys.executable, "-m", "astro_tui", *args], env=e, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    return run


def profile_toml(url: str, **extra: object) -> str:
    lines = ['default_profile = "p"', "[profiles.p]", f'url = "{url}"']
    for key, value in extra.items():
        lines.append(f"{key} = " + ("true" if value is True else "false" if value is False
                                    else f'"{value}"'))
    return "\n".join(lines) + "\n"


def assert_one_line_error(code: int, out: str, err: str, expected_code: int, *words: str):
    assert code == expected_code, (code, out, err)
    assert out == "", out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("astro-tui: error: "), err
    assert "Traceback" not in err and "File \"" not in err, err
    for word in words:
        assert word in lines[0], (word, err)
    return lines[0]


def assert_dags_listed(code: int, out: str, err: str) -> None:
    assert code == 0, (code, out, err)
    assert "example_success" in out and "example_params" in out, out


# -- TLS verification ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["token", "password"])
def test_untrusted_certificate_is_one_plain_line_and_no_secret_is_sent(auth, cli, tls, token):
    password = "pw-never-sent-7f3a9c"  # the login would fail anyway: it must not be attempted
    creds = ({"ASTRO_API_TOKEN": token} if auth == "token" else
             {"AIRFLOW_USERNAME": "admin", "AIRFLOW_PASSWORD": password})
    seen = tls.connections
    started = time.monotonic()
    code, out, err = cli("dags", env={"ASTRO_AIRFLOW_URL": tls.url,
                                      **creds})
    took = time.monotonic() - started
    line = assert_one_line_error(code, out, err, 1, "TLS certificate not trusted", "127.0.0.1",
                                 "ca_bundle")
    assert token not in line and password not in line
    assert tls.connections == seen, "a handshake completed: verification was not on"
    assert took < 10, f"took {took:.1f} s (retried a certificate failure?)"


def test_json_mode_gives_the_same_single_line(cli, tls, token):
    code, out, err = cli("runs", "example_success", "--json",
                         env={"ASTRO_AIRFLOW_URL": tls.url, "ASTRO_API_TOKEN": token})
    assert_one_line_error(code, out, err, 1, "TLS certificate not trusted")


def test_a_ca_bundle_of_another_ca_does_not_trust_the_server(cli, tls, pki, token):
    code, out, err = cli("dags", env={PASSWORD_VAR: token},
                         profiles=profile_toml(tls.url, secret=f"env:{PASSWORD_VAR}",
                                               ca_bundle=pki.other_ca))
    assert_one_line_error(code, out, err, 1, "TLS certificate not trusted", "ca_bundle")


def test_ca_bundle_profile_lists_dags(cli, tls, pki, airflow3):
    """Password auth: the version probe, the Airflow 3 login and the reads all go over TLS."""
    seen = tls.connections
    code, out, err = cli("dags", env={PASSWORD_VAR: airflow3.password,
                                      "PYTHONWARNINGS": "error::DeprecationWarning:httpx._config"},
                         profiles=profile_toml(tls.url, username=airflow3.username,
                                               secret=f"env:{PASSWORD_VAR}",
                                               ca_bundle=pki.ca))
    assert_dags_listed(code, out, err)
    assert err == "", err  # verification is on: nothing to warn about
    assert tls.connections > seen


def test_ssl_cert_file_is_honoured_without_a_profile_setting(cli, tls, pki, token):
    code, out, err = cli("dags", env={"ASTRO_AIRFLOW_URL": tls.url, "ASTRO_API_TOKEN": token,
                                      "SSL_CERT_FILE": str(pki.ca)})
    assert_dags_listed(code, out, err)


def test_verify_tls_false_works_and_warns(cli, tls, token):
    code, out, err = cli("dags", env={PASSWORD_VAR: token},
                         profiles=profile_toml(tls.url, secret=f"env:{PASSWORD_VAR}",
                                               verify_tls=False))
    assert_dags_listed(code, out, err)
    assert err.strip() == "astro-tui: warning: profile 'p' has TLS verification turned off", err


@pytest.mark.parametrize("content", ["not a certificate\n", ""], ids=["garbage", "empty"])
def test_a_broken_ca_bundle_is_a_one_line_config_error(content, cli, tls, tmp_path, token):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(content)
    code, out, err = cli("dags", env={PASSWORD_VAR: token},
                         profiles=profile_toml(tls.url, secret=f"env:{PASSWORD_VAR}",
                                               ca_bundle=bundle))
    assert_one_line_error(code, out, err, 2, "ca_bundle", str(bundle), "not a PEM CA bundle")


def test_https_to_a_plain_http_port_says_so(cli, airflow3, token):
    url = f"https://127.0.0.1:{airflow3.port}"
    code, out, err = cli("dags", env={"ASTRO_AIRFLOW_URL": url, "ASTRO_API_TOKEN": token})
    assert_one_line_error(code, out, err, 1, "TLS handshake with 127.0.0.1 failed",
                          "really an https server")


def test_a_ca_bundle_path_gives_no_httpx_deprecation_warning(pki):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        http = _make_http(auth=None, verify=str(pki.ca), transport=None)
    assert http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"


async def test_the_tui_status_names_the_certificate_problem(tls, token, monkeypatch):
    monkeypatch.setenv(PASSWORD_VAR, token)
    profile = Profile(name="tls", url=tls.url, auth="token", secret=f"env:{PASSWORD_VAR}")
    app = AstroTuiApp(lambda: open_client(profile), profile_name="tls",
                      settings=Settings.from_poll_seconds(1.0))
    async with app.run_test(size=(160, 40)) as pilot:
        shown = ""
        for _ in range(200):
            shown = app.main.status.text
            if "TLS" in shown:
                break
            await pilot.pause(0.05)
        assert "✖ down: TlsError: TLS certificate not trusted: 127.0.0.1" in shown, shown
        assert token not in shown
        assert app.is_running and app.screen is app.main


# -- proxies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("var", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_proxy_env_var_tunnels_to_a_remote_host(var, cli, proxy, pki, token):
    """https://airflow.example.com through the proxy: CONNECT logged, TLS end to end (the
    certificate is checked for the remote name), the proxy never sees the token."""
    code, out, err = cli("dags", env={var: proxy.url, "ASTRO_AIRFLOW_URL": f"https://{REMOTE}",
                                      "ASTRO_API_TOKEN": token, "SSL_CERT_FILE": str(pki.ca)})
    assert_dags_listed(code, out, err)
    assert proxy.log, "the proxy saw nothing"
    assert {(r.method, r.target) for r in proxy.log} == {("CONNECT", f"{REMOTE}:443")}
    for r in proxy.log:
        assert token.encode() not in r.tunnelled and b"Bearer" not in r.tunnelled
        assert "authorization" not in r.headers


def test_https_proxy_is_used_for_loopback_too(cli, proxy, tls, pki, airflow3):
    code, out, err = cli("dags", env={"HTTPS_PROXY": proxy.url, PASSWORD_VAR: airflow3.password},
                         profiles=profile_toml(tls.url, username=airflow3.username,
                                               secret=f"env:{PASSWORD_VAR}", ca_bundle=pki.ca))
    assert_dags_listed(code, out, err)
    assert {r.target for r in proxy.log} == {f"127.0.0.1:{tls.port}"}
    assert all(r.method == "CONNECT" for r in proxy.log)
    for r in proxy.log:  # the Airflow 3 login went through the tunnel, encrypted
        assert airflow3.password.encode() + b'"' not in r.tunnelled


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*"])
def test_no_proxy_bypasses_the_proxy(no_proxy, cli, proxy, tls, pki, token):
    code, out, err = cli("dags", env={"HTTPS_PROXY": proxy.url, "NO_PROXY": no_proxy,
                                      "ASTRO_AIRFLOW_URL": tls.url, "ASTRO_API_TOKEN": token,
                                      "SSL_CERT_FILE": str(pki.ca)})
    assert_dags_listed(code, out, err)
    assert proxy.log == []


def test_an_untrusted_certificate_through_the_proxy_is_the_same_plain_line(cli, proxy, token):
    code, out, err = cli("dags", env={"HTTPS_PROXY": proxy.url, "ASTRO_AIRFLOW_URL":
                                      f"https://{REMOTE}", "ASTRO_API_TOKEN": token})
    assert_one_line_error(code, out, err, 1, "TLS certificate not trusted", REMOTE, "ca_bundle")
    assert [r.method for r in proxy.log] == ["CONNECT"]
    assert token.encode() not in proxy.log[0].tunnelled


# -- plain http and credentials ------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["token", "password"])
def test_credentials_over_plain_http_to_a_remote_host_are_refused_before_sending(
        auth, cli, proxy, token, airflow3):
    creds = ({"AIRFLOW_AUTH_TOKEN": token} if auth == "token" else
             {"AIRFLOW_USERNAME": airflow3.username, "AIRFLOW_PASSWORD": airflow3.password})
    code, out, err = cli("dags", env={"HTTP_PROXY": proxy.url,
                                      "AIRFLOW_API_URL": f"http://{REMOTE}", **creds})
    assert_one_line_error(code, out, err, 2, f"plain http:// to {REMOTE}", "allow_insecure_http")
    assert token not in err
    assert proxy.log == [], "something was sent although the profile was refused"


def test_allow_insecure_http_sends_credentials_over_plain_http_and_warns(
        cli, proxy, token):
    code, out, err = cli("dags", env={"HTTP_PROXY": proxy.url, PASSWORD_VAR: token},
                         profiles=profile_toml(f"http://{REMOTE}", secret=f"env:{PASSWORD_VAR}",
                                               allow_insecure_http=True))
    assert_dags_listed(code, out, err)
    assert err.strip() == "astro-tui: warning: profile 'p' sends credentials over plain http"
    # HTTP_PROXY was honoured: absolute-URI requests, the token visible to the proxy (that is
    # exactly what the opt-in accepts).
    assert proxy.log and all(r.target.startswith(f"http://{REMOTE}/api/v2/")
                             for r in proxy.log)
    assert any(r.headers.get("authorization") == f"Bearer {token}" for r in proxy.log)


def test_credentials_over_plain_http_to_loopback_need_no_opt_in(cli, airflow3, token):
    code, out, err = cli("dags", env={"ASTRO_AIRFLOW_URL": airflow3.url,
                                      "ASTRO_API_TOKEN": token})
    assert_dags_listed(code, out, err)
    assert err == ""
