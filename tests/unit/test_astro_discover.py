"""`astro-tui profiles discover --astro` through the real CLI code path, against the fake Astro API
v1 of tests/fakes/astro_api.py (a real HTTP server on 127.0.0.1; where each shape comes from is
said there, with the reference's source tags).

Covered: the table and --json, paging across two pages, a hibernating Deployment, Airflow 2 and
3 (and "NA"), profiles written (the Deployments' Airflow API URLs, no token in the file, mode
0600, loadable through config.py with the secret from the env), never overwriting a profile, the
`astro login` session (read only; expired -> "run `astro login`"), and the errors: 401, 403, 429
with Retry-After (an injected sleeper: no real waiting), unreachable, empty token. The token never
appears in any output.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import time
from pathlib import Path

import pytest

from astro_tui.astro import platform
from astro_tui.astro.platform import (
    AstroToken,
    Deployment,
    Organization,
    airflow_urls,
    api_url_for_domain,
    discover_from_env,
    find_token,
    parse_simple_yaml,
)
from astro_tui.config import ConfigError, load_config, resolve_profile, resolve_secret
from tests.fakes.astro_api import ORG_ID, WS_ML, FakeAstroApi
from tests.unit.test_cli import TtyIn, cli_run

TOKEN = "astro-OrgToken-5e4d3c2b1a09"
ESC = "\x1b"


def jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLXNpZw"


@pytest.fixture
def fake():
    api = FakeAstroApi()
    api.tokens[TOKEN] = None
    api.start()
    yield api
    api.stop()


@pytest.fixture
def env(monkeypatch, tmp_path, fake):
    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASTRO_HOME", str(tmp_path / "home"))  # never the real ~/.astro
    monkeypatch.setenv("ASTRO_API_URL", fake.url)
    monkeypatch.setenv("ASTRO_API_TOKEN", TOKEN)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal unless a test says so
    return tmp_path


@pytest.fixture
def sleeps(monkeypatch):
    """The waits before 429 retries, recorded instead of slept."""
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(platform, "_sleep", sleep)
    return waited


def run(capsys, *argv: str):
    r = cli_run(capsys, "profiles", "discover", *argv)
    assert TOKEN not in r.out + r.err
    return r


def one_error_line(r, code: int) -> str:
    assert r.code == code, r
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.err, r.err
    assert lines[0].startswith("astro-tui: error: "), lines[0]
    return lines[0]


# -- listing ----------------------------------------------------------------------------------------


def test_the_table_lists_every_deployment_across_two_pages(fake, env, capsys):
    r = run(capsys, "--astro")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["WORKSPACE", "DEPLOYMENT", "AIRFLOW", "RUNTIME", "STATUS",
                                "PROFILE", "AIRFLOW", "API", "URL"]
    rows = {(line.split()[0], line.split()[1]): line for line in lines[1:]}
    assert set(rows) == {("data-platform", "etl-prod"), ("data-platform", "etl-dev"),
                         ("ml", "etl-prod"), ("ml", "reporting")}
    prod = rows["data-platform", "etl-prod"]
    assert "3.1.7" in prod and "HEALTHY" in prod
    assert "https://acme-data.astronomer.run/d7m2v5tz/api/v2" in prod
    dev = rows["data-platform", "etl-dev"]
    assert "2.10.5" in dev and "HIBERNATING (wakes 2026-09-01T07:00:00Z)" in dev
    assert "https://acme-data.astronomer.run/d6t8y4qe/api/v1" in dev
    assert "unknown" in rows["ml", "reporting"] and "DEPLOYING" in rows["ml", "reporting"]
    # names made unique: the two etl-prod get their workspace in front
    assert "data-platform-etl-prod (new)" in prod and "ml-etl-prod (new)" in rows["ml", "etl-prod"]
    # two pages of Deployments (the fake caps a page at 3), offsets from what a page returned
    pages = fake.seen_paths(f"/organizations/{ORG_ID}/deployments")
    assert [p.query["offset"] for p in pages] == [["0"], ["3"]]
    assert all(p.token == TOKEN for p in fake.seen)  # the bearer token was sent
    # the suspended organization is skipped, and said so
    assert "organization Old Corp is SUSPENDED: skipped" in r.err
    assert not fake.seen_paths("cma1b2c3d00000002orgbbbb2")
    # nothing written without --write (stdin is not a terminal), and the way to do it said
    assert "profiles discover --astro --write" in r.err
    assert not (env / "config.toml").exists()


def test_json_for_scripts(fake, env, capsys):
    r = run(capsys, "--astro", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["api_url"] == fake.url and doc["token_source"] == "ASTRO_API_TOKEN"
    assert [(o["name"], o["status"]) for o in doc["organizations"]] == [
        ("Acme Data", "ACTIVE"), ("Old Corp", "SUSPENDED")]
    deps = {d["id"]: d for d in doc["deployments"]}
    assert len(deps) == 4 and doc["written"] == [] and doc["secret"] == "env:ASTRO_API_TOKEN"
    a3 = deps["cmb4q8x2r00aa01p9k7m2v5tz"]
    assert (a3["name"], a3["workspace_name"], a3["airflow_version"],
                              a3["runtime_version"], a3["status"], a3["hibernating"]) == (
        "etl-prod", "data-platform", "3.1.7", "3.1-9", "HEALTHY", False)
    assert a3["airflow_api_url"] == "https://acme-data.astronomer.run/d7m2v5tz/api/v2"
    assert a3["url"] == "https://acme-data.astronomer.run/d7m2v5tz"
    assert (a3["profile"], a3["profile_state"]) == ("data-platform-etl-prod", "new")
    a2 = deps["cmc7w1n3k00bb01r2h6t8y4qe"]
    assert (a2["airflow_version"], a2["hibernating"], a2["next_event"]) == (
        "2.10.5", True, {"type": "WAKE", "at": "2026-09-01T07:00:00Z"})
    assert a2["airflow_api_url"] == "https://acme-data.astronomer.run/d6t8y4qe/api/v1"
    na = deps["cme1a3c5e00dd01t4k6v8x0zb"]  # airflowVersion "NA": the runtime 3.0-7 says v2
    assert na["airflow_version"] is None
    assert na["airflow_api_url"] == "https://acme-ml.astronomer.run/dv8x0zb/api/v2"
    assert r.err == ""  # JSON mode: nothing on stderr but errors


def test_filters_by_organization_workspace_and_deployment(fake, env, capsys):
    doc = json.loads(run(capsys, "--astro", "--json", "--workspace", "ML").out)
    assert {d["name"] for d in doc["deployments"]} == {"etl-prod", "reporting"}
    doc = json.loads(run(capsys, "--astro", "--json", "--deployment", "etl-dev",
                         "--deployment", "cme1a3c5e00dd01t4k6v8x0zb").out)
    assert {d["name"] for d in doc["deployments"]} == {"etl-dev", "reporting"}
    fake.seen.clear()
    doc = json.loads(run(capsys, "--astro", "--json", "--organization", ORG_ID).out)
    assert len(doc["deployments"]) == 4
    assert [o["id"] for o in doc["organizations"]] == [ORG_ID]


def test_server_text_is_sanitized(fake, env, capsys):
    fake.deployments[ORG_ID][0]["name"] = f"etl{ESC}]0;pwned\x07-prod"
    fake.deployments[ORG_ID][0]["workspaceName"] = f"data{ESC}[2J\u202eplatform"
    r = run(capsys, "--astro")
    assert r.code == 0, r.err
    assert ESC not in r.out + r.err and "\u202e" not in r.out and "\x07" not in r.out
    doc = run(capsys, "--astro", "--json").out
    assert ESC not in doc and "\u202e" not in doc


# -- writing profiles -------------------------------------------------------------------------------


def test_write_adds_one_profile_per_deployment_without_the_token(fake, env, capsys):
    r = run(capsys, "--astro", "--write")
    assert r.code == 0, r.err
    assert "added 4 profile(s)" in r.out and "(secret env:ASTRO_API_TOKEN)" in r.out
    path = env / "config.toml"
    text = path.read_text()
    assert TOKEN not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profiles = load_config(path).profiles
    assert sorted(profiles) == ["data-platform-etl-prod", "etl-dev", "ml-etl-prod", "reporting"]
    by_id = {d["id"]: d for d in fake.deployments[ORG_ID]}
    expected = {"data-platform-etl-prod": "cmb4q8x2r00aa01p9k7m2v5tz",
                "etl-dev": "cmc7w1n3k00bb01r2h6t8y4qe", "ml-etl-prod": "cmd9k2m4p00cc01s3j5u7w9xa",
                "reporting": "cme1a3c5e00dd01t4k6v8x0zb"}
    for name, dep_id in expected.items():
        p = profiles[name]
        # the profile's URL is the Deployment's Airflow API URL (the client adds /api/vN)
        api = by_id[dep_id]["apiUrl"]
        assert api.startswith(p.url + "/api/v") and api == p.url + api[len(p.url):]
        assert (p.auth, p.secret) == ("token", "env:ASTRO_API_TOKEN")
    # a written profile loads through config.py and resolves its secret from the env
    prof = resolve_profile(cli_profile="etl-dev")
    assert prof.url == "https://acme-data.astronomer.run/d6t8y4qe"
    assert resolve_secret(prof.secret) == TOKEN


def test_a_second_run_writes_nothing_and_never_overwrites(fake, env, capsys):
    path = env / "config.toml"
    path.write_text('[profiles.etl-dev]\nurl = "https://other.example.com"\n'
                    'secret = "env:OTHER"\n')
    r = run(capsys, "--astro", "--write", "--json")
    doc = json.loads(r.out)
    states = {d["name"] + "@" + d["workspace_name"]: (d["profile"], d["profile_state"])
              for d in doc["deployments"]}
    assert states["etl-dev@data-platform"] == ("etl-dev-2", "new")  # the name was taken
    profiles = load_config(path).profiles
    assert profiles["etl-dev"].url == "https://other.example.com"  # untouched
    assert profiles["etl-dev"].secret == "env:OTHER"
    assert profiles["etl-dev-2"].url == "https://acme-data.astronomer.run/d6t8y4qe"
    before = path.read_text()
    r = run(capsys, "--astro", "--write")
    assert r.code == 0 and path.read_text() == before
    assert "etl-dev-2 (exists)" in r.out and "already has a profile" in r.err


def test_on_a_terminal_it_asks_before_writing(fake, env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", TtyIn("n\n"))
    r = run(capsys, "--astro")
    assert r.code == 0 and "Add 4 profile(s)" in r.err
    assert not (env / "config.toml").exists()
    monkeypatch.setattr("sys.stdin", TtyIn("y\n"))
    r = run(capsys, "--astro", "--prefix", "astro-")
    assert r.code == 0 and "added 4 profile(s)" in r.out
    assert "astro-etl-dev" in load_config(env / "config.toml").profiles


def test_secret_choices(fake, env, capsys):
    run(capsys, "--astro", "--write", "--secret", "astro-cli", "--deployment", "etl-dev")
    assert load_config(env / "config.toml").profiles["etl-dev"].secret == "cmd:astro auth token"
    run(capsys, "--astro", "--yes", "--secret", "env:MY_ASTRO", "--deployment", "reporting")
    assert load_config(env / "config.toml").profiles["reporting"].secret == "env:MY_ASTRO"
    r = run(capsys, "--astro", "--secret", "literal")
    assert "--secret 'literal'" in one_error_line(r, 2)


def test_secret_keyring_stores_the_token_there_once(fake, env, capsys):
    import keyring
    from keyring.backends import fail
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(env / "keyring.cfg")
    keyring.set_keyring(ring)
    try:
        r = run(capsys, "--astro", "--write", "--secret", "keyring")
        assert r.code == 0, r.err
        profiles = load_config(env / "config.toml").profiles
        assert {p.secret for p in profiles.values()} == {"keyring:astro-tui/astro-api-token"}
        assert TOKEN not in (env / "config.toml").read_text()
        assert ring.get_password("astro-tui", "astro-api-token") == TOKEN
        assert resolve_secret("keyring:astro-tui/astro-api-token") == TOKEN
    finally:
        keyring.set_keyring(fail.Keyring())


# -- errors -----------------------------------------------------------------------------------------


def test_a_bad_token_is_one_line(fake, env, capsys, monkeypatch):
    monkeypatch.setenv("ASTRO_API_TOKEN", "not-a-valid-token-1234")
    line = one_error_line(run(capsys, "--astro"), 1)
    assert "the Astro API refused the token from ASTRO_API_TOKEN (HTTP 401: Unauthorized)" in line
    assert "not-a-valid-token-1234" not in line


def test_a_token_without_access_is_one_line(fake, env, capsys):
    fake.tokens[TOKEN] = set()  # may read no organization, nor list them
    fake.cannot_list_orgs.add(TOKEN)
    line = one_error_line(run(capsys, "--astro"), 1)
    assert "has no access to the list of organizations (HTTP 403: Forbidden)" in line
    line = one_error_line(run(capsys, "--astro", "--organization", ORG_ID), 1)
    assert f"has no access to the Deployments of organization {ORG_ID}" in line


def test_a_narrow_token_uses_the_organization_in_its_claims(fake, env, capsys, monkeypatch):
    token = jwt({"permissions": [f"workspaceId:{WS_ML}", f"organizationId:{ORG_ID}"],
                 "exp": time.time() + 3600})
    fake.tokens[token] = {ORG_ID}
    fake.cannot_list_orgs.add(token)
    monkeypatch.setenv("ASTRO_API_TOKEN", token)
    r = cli_run(capsys, "profiles", "discover", "--astro", "--json")
    assert r.code == 0, r.err
    assert len(json.loads(r.out)["deployments"]) == 4 and token not in r.out + r.err


def test_rate_limited_then_served_honours_retry_after(fake, env, capsys, sleeps):
    fake.fail_next(429, "Too Many Requests", headers={"Retry-After": "1"}, times=2,
                   path_part="/deployments")
    r = run(capsys, "--astro", "--json")
    assert r.code == 0, r.err
    assert sleeps == [1.0, 1.0]  # waited as told, twice, then the pages came
    assert len(json.loads(r.out)["deployments"]) == 4
    assert len(fake.seen_paths("/deployments")) == 2 + 2  # two refused, two pages served


def test_rate_limited_for_good_gives_up_with_a_clear_line(fake, env, capsys, sleeps):
    fake.fail_next(429, "Too Many Requests", headers={"Retry-After": "1"}, times=100)
    line = one_error_line(run(capsys, "--astro"), 1)
    assert "the Astro API is rate-limiting this token (HTTP 429: Too Many Requests) after 4" \
           " tries: try again in 1 s" in line
    assert sleeps == [1.0, 1.0, 1.0] and len(fake.seen) == 4  # bounded


def test_a_retry_after_beyond_the_bound_is_not_waited_for(fake, env, capsys, sleeps):
    fake.fail_next(429, "slow down", headers={"Retry-After": "3600"})
    line = one_error_line(run(capsys, "--astro"), 1)
    assert "try again in 3600 s" in line and sleeps == [] and len(fake.seen) == 1


def test_the_api_unreachable_names_host_and_port(fake, env, capsys, monkeypatch):
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ASTRO_API_URL", f"http://127.0.0.1:{port}/v1")
    line = one_error_line(run(capsys, "--astro"), 1)
    assert f"cannot reach 127.0.0.1:{port}" in line and "ASTRO_API_URL" in line


def test_a_server_error_message_is_sanitized(fake, env, capsys):
    fake.fail_next(500, f"boom{ESC}]0;title\x07 internal")
    line = one_error_line(run(capsys, "--astro"), 1)
    assert "the Astro API failed (HTTP 500: boom" in line and ESC not in line


@pytest.mark.parametrize("argv, env_change, needle", [
    (["--astro"], {"ASTRO_API_TOKEN": ""}, "ASTRO_API_TOKEN is set but empty"),
    (["--astro"], {"ASTRO_API_TOKEN": "  "}, "ASTRO_API_TOKEN is set but empty"),
    (["--astro"], {"ASTRO_API_TOKEN": None}, "no Astro credentials: set ASTRO_API_TOKEN"),
    (["--astro"], {"ASTRO_API_URL": "ftp://x"}, "ASTRO_API_URL must be an http"),
    (["--astro"], {"ASTRO_API_URL": "http://astro.example.com/v1"}, "plain http://"),
    ([], {}, "--astro"),
])
def test_usage_and_credential_errors_exit_2_before_any_request(fake, env, capsys, monkeypatch,
                                                               argv, env_change, needle):
    for var, value in env_change.items():
        if value is None:
            monkeypatch.delenv(var)
        else:
            monkeypatch.setenv(var, value)
    line = one_error_line(run(capsys, *argv), 2)
    assert needle in line
    assert fake.seen == []


def test_debug_traceback_has_no_token(fake, env, capsys, monkeypatch):
    monkeypatch.setenv("ASTRO_API_TOKEN", "bad-Token-0a9b8c7d6e5f")
    r = cli_run(capsys, "profiles", "discover", "--astro", "--debug")
    assert r.code == 1 and "Traceback" in r.err and "bad-Token-0a9b8c7d6e5f" not in r.err


# -- the astro login session ------------------------------------------------------------------------


def write_astro_config(home: Path, token: str, expires: str, indent: str = "    ") -> Path:
    """The astro CLI's config as viper writes it [reference 2.2: `context: <domain>`,
    `contexts.<domain with _>.{domain, organization, token: "Bearer …", expiresin, …}`]."""
    path = home / ".astro" / "config.yaml"
    path.parent.mkdir(parents=True)
    i = indent
    path.write_text(
        "cloud:\n" f"{i}api:\n" f"{i}{i}port: \"443\"\n"
        "context: astronomer.io\n"
        "contexts:\n"
        f"{i}astronomer_io:\n"
        f"{i}{i}domain: astronomer.io\n"
        f"{i}{i}expiresin: {expires}\n"
        f"{i}{i}last_used_workspace: {WS_ML}\n"
        f"{i}{i}organization: {ORG_ID}\n"
        f"{i}{i}organization_product: HOSTED\n"
        f"{i}{i}refreshtoken: v1.refresh-Secret-abc\n"
        f"{i}{i}token: Bearer {token}\n"
        f"{i}{i}user_email: someone@example.com\n"
        f"{i}{i}workspace: {WS_ML}\n"
        f"{i}example_dev_io:\n"
        f"{i}{i}domain: example-dev.io\n"
        f"{i}{i}token: 'Bearer other'\n"
        "local:\n" f"{i}enabled: true\n")
    return path


def test_without_a_token_the_astro_login_session_is_used_read_only(fake, env, capsys,
                                                                   monkeypatch):
    token = jwt({"sub": "user", "exp": time.time() + 3600})
    fake.tokens[token] = None
    monkeypatch.delenv("ASTRO_API_TOKEN")
    path = write_astro_config(env / "home", token, "2099-05-01T16:48:36.123456789+01:00")
    before = (path.read_text(), path.stat().st_mtime_ns)
    r = cli_run(capsys, "profiles", "discover", "--astro", "--write")
    assert r.code == 0, r.err
    assert "the astro login session (context astronomer.io" in r.err
    assert fake.seen and all(s.token == token for s in fake.seen)
    assert (path.read_text(), path.stat().st_mtime_ns) == before  # never written
    assert token not in r.out + r.err + (env / "config.toml").read_text()
    # the profiles read ASTRO_API_TOKEN, which is not set: said, with the alternatives
    assert "--secret astro-cli" in r.err


@pytest.mark.parametrize("expires", ["2020-05-01T16:48:36+01:00", ""])
def test_an_expired_login_session_says_run_astro_login(fake, env, capsys, monkeypatch, expires):
    token = jwt({"sub": "user", "exp": time.time() - 60})  # expiresin, else the JWT's exp
    monkeypatch.delenv("ASTRO_API_TOKEN")
    write_astro_config(env / "home", token, expires, indent="  ")
    line = one_error_line(cli_run(capsys, "profiles", "discover", "--astro"), 2)
    assert "the astro login session has expired" in line and "run `astro login`" in line
    assert token not in line and fake.seen == []


def test_a_401_with_the_login_session_says_run_astro_login(fake, env, capsys, monkeypatch):
    monkeypatch.delenv("ASTRO_API_TOKEN")
    write_astro_config(env / "home", jwt({"exp": time.time() + 60}), "2099-01-01T00:00:00Z")
    line = one_error_line(cli_run(capsys, "profiles", "discover", "--astro"), 1)
    assert "HTTP 401" in line and line.endswith("run `astro login`")


# -- the pieces -------------------------------------------------------------------------------------


def test_parse_simple_yaml():
    text = ('# comment\ncontext: "astronomer.io"\ncontexts:\n  a_io:\n    token: \'Bearer x\'  \n'
            '    list:\n      - one\n    n: ~\n  b: 2 # two\nlast: end\n')
    assert parse_simple_yaml(text) == {
        "context": "astronomer.io",
        "contexts": {"a_io": {"token": "Bearer x", "list": {}, "n": None}, "b": "2"},
        "last": "end"}


@pytest.mark.parametrize("domain, url", [
    (None, "https://api.astronomer.io/v1"),
    ("astronomer.io", "https://api.astronomer.io/v1"),
    ("cloud.astronomer.io", "https://api.astronomer.io/v1"),
    ("localhost", "http://localhost:8888/v1"),
    ("pr1234.astronomer-dev.io", "https://pr1234.api.astronomer-dev.io/v1"),
])
def test_api_url_for_domain(domain, url):
    assert api_url_for_domain(domain) == url


def test_airflow_urls_fall_back_to_the_older_fields():
    # no apiUrl: webServerAirflowApiUrl (no scheme); then webServerUrl (?orgId=) [reference 5]
    assert airflow_urls({"webServerAirflowApiUrl": "o.astronomer.run/d8fe2wmv/api/v1"},
                        "2.10.5", None) == ("https://o.astronomer.run/d8fe2wmv",
                                            "https://o.astronomer.run/d8fe2wmv/api/v1")
    assert airflow_urls({"webServerUrl": "o.astronomer.run/d8fe2wmv?orgId=org_x"}, "3.1.0",
                        None) == ("https://o.astronomer.run/d8fe2wmv",
                                  "https://o.astronomer.run/d8fe2wmv/api/v2")
    assert airflow_urls({"apiUrl": "https://o.astronomer.run/dx/api/v2"}, None, None)[1] == \
        "https://o.astronomer.run/dx/api/v2"  # no version: the URL's own suffix
    assert airflow_urls({}, "3.1.0", None) == (None, None)


def test_a_deployment_without_any_url_gets_no_profile():
    from astro_tui.astro.profiles import plan_profiles

    d = Deployment.from_api({"id": "x1", "name": "new-one", "status": "CREATING"},
                            Organization(id="o"))
    [plan] = plan_profiles([d], {})
    assert (plan.state, plan.name, plan.profile) == ("no-url", None, None)


def test_the_token_never_shows_in_a_repr():
    t = AstroToken(source="ASTRO_API_TOKEN", api_url="https://api.astronomer.io/v1",
                   _value=TOKEN)
    assert TOKEN not in repr(t) + str(t) and "***" in repr(t)
    with pytest.raises(ConfigError) as err:
        find_token({"ASTRO_API_TOKEN": ""})
    assert str(err.value) == "ASTRO_API_TOKEN is set but empty: give it the token (or unset it)"


async def test_the_tui_entry_point_is_async(fake, env):
    found = await discover_from_env()
    assert found.api_url == fake.url and len(found.deployments) == 4
    assert sum(d.hibernating for d in found.deployments) == 1
    assert {d.airflow_major for d in found.deployments} == {2, 3}
