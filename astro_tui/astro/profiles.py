"""Profiles for discovered Astro Deployments: unique names, and never a silent overwrite.

A Deployment whose Airflow URL is already some profile's URL is reported as existing (under that
profile's name) and not written again; a name that is taken gets ``-2``, ``-3``, … . The secret is
a *source* (``env:ASTRO_API_TOKEN`` by default), never the token.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from astro_tui.astro.platform import Deployment
from astro_tui.config import (
    ConfigError,
    Profile,
    _validated as validate_profile,  # the file loader's own checks, for a profile built here
)

__all__ = ["PlannedProfile", "plan_profiles", "profile_name", "DEFAULT_SECRET"]

DEFAULT_SECRET = "env:ASTRO_API_TOKEN"
_MAX_BASE = 56  # profile names are at most 64 characters: room for a suffix


@dataclass(frozen=True)
class PlannedProfile:
    deployment: Deployment
    #: the profile's name: the new one, or the existing profile with the same URL
    name: str | None
    #: "new" (to write), "exists" (a profile has this URL), "no-url" (the API gave none yet)
    state: str
    profile: Profile | None = None


def _slug(text: str | None) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text or "").strip("-._").lower()
    return re.sub(r"-{2,}", "-", slug)[:_MAX_BASE].strip("-._")


def profile_name(d: Deployment, prefix: str = "", *, with_workspace: bool = False,
                 with_id: bool = False) -> str:
    parts = [_slug(d.workspace_name or d.workspace_id)] if with_workspace else []
    parts.append(_slug(d.name) or "deployment")
    if with_id:
        parts.append(_slug(d.id[-7:]))
    name = _slug(prefix + "-".join(p for p in parts if p)) or "deployment"
    return name if name[0].isalnum() else "d" + name


def plan_profiles(deployments: Iterable[Deployment], existing: Mapping[str, Profile], *,
                  secret: str = DEFAULT_SECRET, prefix: str = "") -> list[PlannedProfile]:
    """One plan per Deployment, in order. Names: the Deployment's name; the workspace before
    it when two Deployments share a name; the id's end too if that is not enough."""
    deps = list(deployments)
    names = {d.id: profile_name(d, prefix) for d in deps}
    for flags in ({"with_workspace": True}, {"with_workspace": True, "with_id": True}):
        counts = Counter(names.values())
        for d in deps:
            if counts[names[d.id]] > 1:
                names[d.id] = profile_name(d, prefix, **flags)
    by_url = {p.url: n for n, p in existing.items()}
    taken = set(existing)
    plans = []
    for d in deps:
        if not d.root_url:
            plans.append(PlannedProfile(d, None, "no-url"))
            continue
        if d.root_url in by_url:
            plans.append(PlannedProfile(d, by_url[d.root_url], "exists"))
            continue
        name, n = names[d.id], 1
        while name in taken:
            n += 1
            name = f"{names[d.id]}-{n}"
        try:
            profile = validate_profile(Profile(name=name, url=d.root_url, auth="token",
                                               secret=secret))
        except ConfigError:  # a URL the config would refuse: as good as none
            plans.append(PlannedProfile(d, None, "no-url"))
            continue
        taken.add(name)
        by_url[d.root_url] = name
        plans.append(PlannedProfile(d, name, "new", profile))
    return plans
