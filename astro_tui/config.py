"""Profiles and config: TOML file, environment overrides, secret sources, URL rules.

File: ``platformdirs.user_config_path("astro-tui") / "config.toml"`` (or ``$ASTRO_TUI_CONFIG``):
``default_profile = "prod"`` plus ``[profiles.<name>]`` tables with url, auth (token | basic |
password | none), username, secret (env:VAR | cmd:<command> | keyring:<service>/<name> | literal),
verify_tls, ca_bundle,
read_only, poll_seconds, allow_insecure_http.

Precedence (as in the AWS CLI): ``--url``/``--read-only`` beat everything; ``--profile NAME``
selects that profile and ignores the connection env vars. Otherwise ``ASTRO_AIRFLOW_URL`` or
``AIRFLOW_API_URL`` (with their credential vars) beat the file's default profile, and credential
vars alone (``ASTRO_API_TOKEN``, ``AIRFLOW_AUTH_TOKEN``, ``AIRFLOW_USERNAME``/``AIRFLOW_PASSWORD``)
replace the default profile's credentials. Every failure is a ``ConfigError`` with a one-line
message that never contains a secret value.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets as _secrets
import shlex
import signal
import ssl
import stat
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from astro_tui.airflow.urls import normalize_root_url

AUTH_KINDS = ("token", "basic", "password", "none")
#: which ended runs alert in the TUI (`notify` in a profile, `--notify`)
NOTIFY_MODES = ("off", "failures", "all")
SECRET_TIMEOUT = 10.0
CONFIG_ENV = "ASTRO_TUI_CONFIG"
#: secret sources that name where the secret is (anything else is the secret itself)
SOURCE_PREFIXES = ("env:", "cmd:", "keyring:")
KEYRING_EXTRA = "pip install 'astro-tui[keyring]'"


class ConfigError(Exception):
    """A configuration problem, with a one-line message fit for a status bar or stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def describe_secret_source(source: str | None) -> str:
    """Safe to show anywhere: 'env:VAR', 'cmd:<program> …', 'keyring:<service>/<name>', '***'
    for a literal, 'none'."""
    if not source:
        return "none"
    if source.startswith(("env:", "keyring:")):
        return source
    if source.startswith("cmd:"):
        return f"cmd:{(source[4:].split() or [''])[0]} \u2026"
    return "***"


def is_literal_secret(source: str | None) -> bool:
    """True if the secret is stored in the config itself (callers should warn)."""
    return bool(source) and not str(source).startswith(SOURCE_PREFIXES)


@dataclass(frozen=True, repr=False)
class Profile:
    name: str
    url: str
    auth: str = "none"
    username: str | None = None
    secret: str | None = None  # a *source*: env:VAR, cmd:<command>, or a literal
    verify_tls: bool = True
    ca_bundle: str | None = None
    read_only: bool = False
    poll_seconds: float = 5.0
    allow_insecure_http: bool = False
    notify: str = "off"  # "failures", "all" or "off": which ended runs alert (the TUI)
    notify_command: str | None = None  # a program that reads each alert as JSON on stdin

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["secret"] = describe_secret_source(self.secret)
        return "Profile(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __str__ = __repr__


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("url", "auth", "username", "secret", "ca_bundle", "notify",
                     "notify_command"), (str,)),
    **dict.fromkeys(("verify_tls", "read_only", "allow_insecure_http"), (bool,)),
    "poll_seconds": (int, float),
}

# --- secrets ------------------------------------------------------------------------------------


def keyring_ref(source: str) -> tuple[str, str]:
    """``keyring:<service>/<name>`` -> (service, name); the name may contain '/'."""
    service, sep, name = source.removeprefix("keyring:").strip().partition("/")
    if not (sep and service.strip() and name.strip()):
        raise ConfigError(f"secret source '{source}' must be keyring:<service>/<name>, e.g."
                          " keyring:astro-tui/prod")
    return service.strip(), name.strip()


def _keyring_module(source: str) -> Any:
    """The keyring package, imported only now (it is an optional extra, and slow to import)."""
    try:
        import keyring
    except ImportError:
        raise ConfigError(f"secret source {source} needs the keyring extra: {KEYRING_EXTRA}"
                          ) from None
    return keyring


def _keyring_failure(source: str, exc: Exception) -> ConfigError:
    """One line for a keyring backend failure; the backend's text never holds the secret (it
    was not read, or is being written and the text is about the backend), but is cut short."""
    if type(exc).__name__ == "NoKeyringError":
        return ConfigError(f"secret source {source}: no OS keyring is available here (install"
                           " a keyring backend, or use env:VAR / cmd:COMMAND)")
    reason = " ".join(str(exc).split())[:120] or type(exc).__name__
    return ConfigError(f"secret source {source}: the keyring failed: {reason}")


def _keyring_secret(source: str) -> str:
    service, name = keyring_ref(source)
    keyring = _keyring_module(source)
    try:
        value = keyring.get_password(service, name)
    except Exception as exc:  # noqa: BLE001 - backends raise many kinds (dbus, files, …)
        raise _keyring_failure(source, exc) from None
    if not value:
        raise ConfigError(f"no secret in the keyring for service '{service}', name '{name}'"
                          f" (secret source {source}); store one with: astro-tui profiles add"
                          f" --keyring {service}/{name} …")
    return str(value)


def store_keyring_secret(source: str, value: str) -> None:
    """Put `value` into the OS keyring under ``keyring:<service>/<name>``."""
    service, name = keyring_ref(source)
    keyring = _keyring_module(source)
    try:
        keyring.set_password(service, name, value)
    except Exception as exc:  # noqa: BLE001
        raise _keyring_failure(source, exc) from None


def resolve_secret(source: str | None, *, env: Mapping[str, str] | None = None,
                   timeout: float = SECRET_TIMEOUT) -> str:
    """Secret source -> secret. Errors never include the secret or the command's output."""
    if not source:
        raise ConfigError("no secret configured for this profile")
    if source.startswith("env:"):
        var = source[4:].strip()
        value = (os.environ if env is None else env).get(var) if var else None
        if not value:
            raise ConfigError(f"environment variable {var or '(none)'} is not set or empty"
                              f" (secret source env:{var})")
        return value
    if source.startswith("keyring:"):
        return _keyring_secret(source)
    if not source.startswith("cmd:"):
        return source
    try:
        argv = shlex.split(source[4:])
    except ValueError as exc:
        raise ConfigError(f"secret command cannot be parsed: {exc}") from None
    if not argv:
        raise ConfigError("secret source 'cmd:' has no command")
    prog = argv[0]
    try:  # no shell; own session so that a timeout kills the whole process group
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        why = "not found" if isinstance(exc, FileNotFoundError) else f"cannot run: {exc.strerror}"
        raise ConfigError(f"secret command {prog} {why}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        raise ConfigError(f"secret command {prog} timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        raise ConfigError(f"secret command {prog} failed with exit status {proc.returncode}")
    value = out.decode("utf-8", "replace").strip()
    if not value:
        raise ConfigError(f"secret command {prog} printed nothing")
    return value


# --- URLs ---------------------------------------------------------------------------------------

_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def normalize_url(url: str) -> str:
    """Deployment URL (no scheme, /api/v1|v2[/…], /home, trailing /, ?query, #fragment all OK)
    -> ``scheme://host[:port][/path]`` without trailing slash. No scheme means https://.
    The one implementation is the API layer's; here errors become ConfigError, and a URL with
    credentials in it is refused (they belong in the profile's secret)."""
    raw = str(url).strip()
    if not raw:
        raise ConfigError("the Airflow URL is empty")
    try:
        parts = urlsplit(raw if _HAS_SCHEME.match(raw) else "https://" + raw.lstrip("/"))
        has_credentials = parts.username is not None or parts.password is not None
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("the Airflow URL has an invalid port") from None
    if has_credentials:
        raise ConfigError("the Airflow URL must not contain credentials; use auth/username/secret")
    try:
        return normalize_root_url(raw)
    except ValueError as exc:
        raise ConfigError(f"bad Airflow URL: {exc}") from None


def is_loopback_host(host: str | None) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


def check_transport_security(profile: Profile) -> None:
    """Refuse credentials over plain http to a non-loopback host unless the profile opts in."""
    parts = urlsplit(profile.url)
    if (parts.scheme.lower() == "http" and profile.auth != "none"
            and not profile.allow_insecure_http and not is_loopback_host(parts.hostname)):
        raise ConfigError(
            f"refusing to send credentials over plain http:// to {parts.hostname}: use https://,"
            f" or set allow_insecure_http = true in profile '{profile.name}'")


# --- file ---------------------------------------------------------------------------------------


@dataclass
class Config:
    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept on save


def config_path(env: Mapping[str, str] | None = None) -> Path:
    override = (os.environ if env is None else env).get(CONFIG_ENV)
    return Path(override).expanduser() if override else (
        platformdirs.user_config_path("astro-tui") / "config.toml")


def _validated(profile: Profile) -> Profile:
    if profile.auth not in AUTH_KINDS:
        raise ConfigError(f"unknown auth kind '{profile.auth}' (use {', '.join(AUTH_KINDS)})")
    if profile.auth != "none" and not profile.secret:
        raise ConfigError(f"auth '{profile.auth}' needs a secret (env:VAR, cmd:...,"
                          " keyring:<service>/<name>, or literal)")
    if profile.secret and profile.secret.startswith("keyring:"):
        keyring_ref(profile.secret)  # the form is checked now; the keyring only when connecting
    if profile.auth in ("basic", "password") and not profile.username:
        raise ConfigError(f"auth '{profile.auth}' needs a username")
    if not (math.isfinite(profile.poll_seconds) and profile.poll_seconds > 0):
        raise ConfigError("poll_seconds must be a positive number")
    if profile.notify not in NOTIFY_MODES:
        raise ConfigError(f"notify must be one of {', '.join(NOTIFY_MODES)}, not "
                          f"'{profile.notify}'")
    ca_bundle = os.path.expanduser(profile.ca_bundle) if profile.ca_bundle else None
    return replace(profile, url=normalize_url(profile.url), ca_bundle=ca_bundle,
                   poll_seconds=float(profile.poll_seconds))


def _profile_from_table(name: str, table: Any, where: str) -> Profile:
    where = f"{where}: profile '{name}'"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    for key, value in table.items():
        if key not in _FIELD_TYPES:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(_FIELD_TYPES)})")
        types = _FIELD_TYPES[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            kind = {bool: "true or false", int: "a number"}.get(types[0], "a string")
            raise ConfigError(f"{where}: '{key}' must be {kind}")
    if "url" not in table:
        raise ConfigError(f"{where}: missing 'url'")
    auth = "password" if table.get("username") else "token" if table.get("secret") else "none"
    try:
        return _validated(Profile(name=name, **{"auth": auth, **table}))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; a missing file is an empty config."""
    path = Path(path) if path is not None else config_path(env)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config(path=path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    table = data.pop("profiles", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'profiles' must be a table of [profiles.<name>] tables")
    default = data.pop("default_profile", None)
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: 'default_profile' must be a string")
    profiles = {name: _profile_from_table(name, t, str(path)) for name, t in table.items()}
    return Config(path=path, profiles=profiles, default_profile=default, extra=data)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
             "\r": "\\r"}


def _toml_str(s: str) -> str:
    esc = (_TOML_ESC.get(c) or (f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c) for c in s)
    return '"' + "".join(esc) + '"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan" if math.isnan(v) else ("-inf", "inf")[v > 0]
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dump_toml(table: Mapping[str, Any], _prefix: tuple[str, ...] = ()) -> str:
    """A tiny TOML writer: strings, bools, numbers, lists of those, nested tables."""
    key = lambda k: k if _BARE_KEY.fullmatch(k) else _toml_str(k)  # noqa: E731
    out = "".join(f"{key(k)} = {_toml_value(v)}\n" for k, v in table.items()
                  if not isinstance(v, Mapping))
    for k, v in table.items():
        if isinstance(v, Mapping):
            sub = (*_prefix, k)
            if not v or not all(isinstance(x, Mapping) for x in v.values()):
                out += f"\n[{'.'.join(map(key, sub))}]\n"
            out += dump_toml(v, sub)
    return out


def write_private(target: Path, text: str) -> None:
    """Write `text` to `target` atomically with mode 0600 (a 0600 temp file in the same
    directory, fsynced, then renamed over it); the directory is made 0700 if missing."""
    tmp = target.parent / f".{target.name}.{_secrets.token_hex(6)}.tmp"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exact mode whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def save_config(config: Config, path: Path | str | None = None) -> Path:
    """Write atomically with mode 0600: a 0600 temp file in the same directory, then replace."""
    target = Path(os.path.realpath(path if path is not None else config.path))
    defaults = Profile(name="", url="")
    data: dict[str, Any] = {"default_profile": config.default_profile}
    data = {k: v for k, v in data.items() if v} | config.extra
    data["profiles"] = {
        name: {f.name: getattr(p, f.name) for f in fields(p) if f.name != "name"
               and getattr(p, f.name) is not None
               and (f.name in ("url", "auth") or getattr(p, f.name) != getattr(defaults, f.name))}
        for name, p in config.profiles.items()}
    text = "# astro-tui configuration; may reference secrets, keep it mode 0600\n" + dump_toml(data)
    try:
        write_private(target, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def config_permission_warning(path: Path | str) -> str | None:
    """A warning if group or others can read (or write) the config file, else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if os.name == "nt" or not mode & 0o066:
        return None
    return (f"{path} is readable or writable by group/others (mode {mode:04o}) and may hold"
            f" secrets; run: chmod 600 {path}")


def profile_warnings(profile: Profile) -> list[str]:
    """Non-fatal problems worth showing once: literal secret, TLS off, http opt-in."""
    literal = ([f"profile '{profile.name}' stores its secret literally; prefer env:VAR"]
               if is_literal_secret(profile.secret) else [])
    return literal + transport_warnings(profile)


def transport_warnings(profile: Profile) -> list[str]:
    """The warnings about the connection itself (TLS verification off, credentials over plain
    http): worth repeating each time the profile connects. TLS off does not count when the URL
    is plain http (no TLS) or a ca_bundle keeps verification on (see :func:`tls_verify`)."""
    plain_http = profile.url.startswith("http://")
    checks = [(not profile.verify_tls and not profile.ca_bundle and not plain_http,
               "has TLS verification turned off"),
              (profile.allow_insecure_http and profile.auth != "none" and plain_http,
               "sends credentials over plain http")]
    return [f"profile '{profile.name}' {text}" for bad, text in checks if bad]


# --- resolution ---------------------------------------------------------------------------------


def _env_credentials(env: Mapping[str, str], astro_first: bool) -> dict[str, Any] | None:
    order = ["ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN", "AIRFLOW_USERNAME"]
    for var in order if astro_first else order[1:] + order[:1]:
        if var != "AIRFLOW_USERNAME" and (env.get(var) or "").strip():
            return {"auth": "token", "username": None, "secret": f"env:{var}"}
        if var == "AIRFLOW_USERNAME" and (env.get(var) or env.get("AIRFLOW_PASSWORD")):
            if not (env.get(var) and env.get("AIRFLOW_PASSWORD")):
                raise ConfigError("set both AIRFLOW_USERNAME and AIRFLOW_PASSWORD (or neither)")
            return {"auth": "password", "username": env[var], "secret": "env:AIRFLOW_PASSWORD"}
    return None


def _refuse_empty_tokens(env: Mapping[str, str]) -> None:
    """A token variable that is set but empty is a mistake (an unset secret in CI, say), not a
    wish to connect without auth: say so, instead of failing later as "auth none"."""
    for var in ("ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN", "AIRFLOW_PASSWORD"):
        if var in env and not env[var].strip():
            raise ConfigError(f"{var} is set but empty: give it the token (or unset it)")


def _default_profile(config: Config) -> Profile | None:
    name = config.default_profile
    if name:
        if name not in config.profiles:
            raise ConfigError(f"{config.path}: default_profile '{name}' is not defined")
        return config.profiles[name]
    if len(config.profiles) > 1:
        raise ConfigError(f"{config.path} has several profiles and no default_profile;"
                          " pass --profile")
    return next(iter(config.profiles.values()), None)


def resolve_profile(cli_url: str | None = None, cli_profile: str | None = None,
                    read_only: bool | None = None,
                    env: Mapping[str, str] | None = None, notify: str | None = None) -> Profile:
    """The profile to connect with: CLI flags > environment > config file (see module doc).

    Secrets stay sources (``env:ASTRO_API_TOKEN``, …); call ``resolve_secret`` to read them.
    """
    env = os.environ if env is None else env
    config = load_config(env=env)
    profile: Profile | None
    if cli_profile:
        if cli_profile not in config.profiles:
            known = ", ".join(sorted(config.profiles)) or "none"
            raise ConfigError(f"unknown profile '{cli_profile}' (known: {known}) in {config.path}")
        profile = config.profiles[cli_profile]
    else:
        creds = _env_credentials(env, astro_first=bool(env.get("ASTRO_AIRFLOW_URL")))
        env_url = env.get("ASTRO_AIRFLOW_URL") or env.get("AIRFLOW_API_URL")
        if env_url:
            if creds is None:
                _refuse_empty_tokens(env)
            profile = Profile(name="env", url=env_url, **(creds or {}))
        else:
            profile = _default_profile(config)
            if profile is not None and creds:
                profile = replace(profile, **creds)
            elif profile is None and cli_url:
                profile = Profile(name="cli", url=cli_url, **(creds or {}))
    if cli_url:
        profile = replace(profile, url=cli_url) if profile else Profile(name="cli", url=cli_url)
    if profile is None:
        raise ConfigError("no Airflow configured: pass --url, set ASTRO_AIRFLOW_URL and"
                          f" ASTRO_API_TOKEN, or add a profile to {config.path}")
    if read_only is not None:
        profile = replace(profile, read_only=read_only)
    if notify is not None:
        profile = replace(profile, notify=notify)
    try:
        profile = _validated(profile)
    except ConfigError as exc:
        raise ConfigError(f"profile '{profile.name}': {exc}") from None
    if profile.ca_bundle and not os.path.isfile(profile.ca_bundle):
        raise ConfigError(f"profile '{profile.name}': ca_bundle {profile.ca_bundle} is not a file")
    tls_verify(profile)  # a broken ca_bundle is a config error now, not a traceback later
    check_transport_security(profile)
    return profile


def resolve_profiles(cli_profiles: Sequence[str] | str | None = None, all_profiles: bool = False,
                     *, cli_url: str | None = None, read_only: bool | None = None,
                     env: Mapping[str, str] | None = None,
                     notify: str | None = None) -> list[Profile]:
    """The profiles to watch at once (issue 17): every profile of the config file
    (``all_profiles``), or each ``--profile`` given (in that order, each once); else the one
    profile ``resolve_profile`` picks."""
    names = [cli_profiles] if isinstance(cli_profiles, str) else list(cli_profiles or [])
    names = list(dict.fromkeys(names))
    if not all_profiles and len(names) <= 1:
        return [resolve_profile(cli_url, names[0] if names else None, read_only, env, notify)]
    if cli_url:
        raise ConfigError("--url names one Airflow: it does not mix with several profiles")
    if all_profiles:
        config = load_config(env=os.environ if env is None else env)
        if names:
            raise ConfigError("--all-profiles and --profile do not mix: pick one")
        names = list(config.profiles)
        if not names:
            raise ConfigError(f"--all-profiles: no profiles in {config.path} (add one with "
                              "`astro-tui profiles add`)")
    return [resolve_profile(None, name, read_only, env, notify) for name in names]


def one_profile_name(value: Sequence[str] | str | None, command: str = "this command") -> str | None:
    """``--profile`` may be repeated for the fleet's commands; the others take one."""
    if value is None or isinstance(value, str):
        return value
    names = list(dict.fromkeys(value))
    if len(names) > 1:
        raise ConfigError(f"{command} works on one profile (several --profile, or "
                          "--all-profiles, are for the TUI, failures, health and "
                          "watch --failures)")
    return names[0] if names else None


def tls_verify(profile: Profile) -> bool | ssl.SSLContext:
    """What the HTTP client verifies the server with: an SSLContext that trusts only the
    profile's ``ca_bundle`` (PEM); else ``verify_tls`` (True: the system/certifi CAs, and
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set; False: no verification at all).

    A ca_bundle keeps verification on even with ``verify_tls = false``: naming a CA is the
    stronger statement. An unreadable or non-PEM bundle is a one-line ConfigError."""
    if not profile.ca_bundle:
        return bool(profile.verify_tls)
    path = profile.ca_bundle
    try:
        return ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        why = (exc.reason or "").lower().replace("_", " ") or "no PEM certificate in it"
        raise ConfigError(f"profile '{profile.name}': ca_bundle {path} is not a PEM CA bundle"
                          f" ({why})") from None
    except OSError as exc:
        raise ConfigError(f"profile '{profile.name}': cannot read ca_bundle {path}:"
                          f" {exc.strerror or exc}") from None
