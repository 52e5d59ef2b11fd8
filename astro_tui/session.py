"""Profile → ready AirflowClient: secret lookup, auth choice and version detection."""

from __future__ import annotations

import httpx

from astro_tui.airflow.auth import Airflow3PasswordAuth, BasicAuth, BearerAuth
from astro_tui.airflow.client import AirflowClient
from astro_tui.config import ConfigError, Profile, resolve_secret, tls_verify


async def open_client(profile: Profile) -> AirflowClient:
    """Connect with `profile`. The secret goes straight into the auth object and nowhere else.

    Auth kind "password" means basic auth on Airflow 2 and a JWT login on Airflow 3, so the
    version is detected first (the version endpoint needs no credentials in OSS Airflow).
    """
    verify = tls_verify(profile)
    if profile.auth == "password":
        if not profile.username:
            raise ConfigError(f"profile '{profile.name}': auth 'password' needs a username")
        probe = await AirflowClient.connect(profile.url, verify=verify)
        root, version = probe.root_url, probe.version
        await probe.aclose()
        password = resolve_secret(profile.secret) if profile.secret else ""
        login: httpx.Auth
        if version.major >= 3:
            login = Airflow3PasswordAuth(root, profile.username, password)
        else:
            login = BasicAuth(profile.username, password)
        del password
        return AirflowClient(root, version, auth=login, verify=verify)
    auth: httpx.Auth | None = None
    if profile.auth == "token":
        auth = BearerAuth(resolve_secret(profile.secret) if profile.secret else "")
    elif profile.auth == "basic":
        auth = BasicAuth(profile.username or "", resolve_secret(profile.secret) if profile.secret
                         else "")
    return await AirflowClient.connect(profile.url, auth=auth, verify=verify)
