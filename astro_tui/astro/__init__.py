"""Astro (Astronomer's hosted Airflow): the Platform API v1, to find Deployments.

    token = find_token()                    # ASTRO_API_TOKEN, else the `astro login` session
    found = await discover(token)           # organizations and Deployments the token can see
    plans = plan_profiles(found.deployments, config.profiles, secret="env:ASTRO_API_TOKEN")

``platform``: the token, the HTTP client (httpx, async), the models. ``profiles``: profile names
and profiles for discovered Deployments. No Textual here; the TUI calls the same functions.
"""
