"""What the reconciler knows of platform session Secrets: a verdict each, by GET.

Scrape and publish jobs are checked before they are queued (lifecycle/logins.py).
The operator learns a Secret by GET when a job asks (``CheckLogin``), not by an
informer on Secrets, because:

- the chart grants ``get`` on Secrets, and only in the namespaces that ask for it
  (``namespaces[].secrets``); an informer needs ``list`` and ``watch`` too;
- an informer holds every Secret of every watched namespace (of the whole cluster
  when none is listed) in memory: Helm releases, TLS keys, other applications'
  tokens, KiBs to MiBs each, to learn the handful of (profile, platform) logins;
- the hot path stays cheap all the same: a verdict serves every job of its login
  for ``FRESH_SECONDS`` and concurrent checks share one GET, so a flood of jobs for
  one login reads its Secret once per 10 s (tests/unit/controller/test_logins.py
  counts the GETs).

The cookies live only in the coroutine that checks them: what is kept is a
``Login`` (the check's verdict, which names cookies but never says a value, and
when the first cookie expires). A resolved HitlSession clears the verdict on its
Secret (a GET sent before it does not bring it back), so a job retried just after
a person logged in is checked against the new cookies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mediajobs.api.hitl import HitlPhase
from mediajobs.clock import Clock
from mediajobs.jobs.naming import CookiesRef
from mediajobs.kube.port import Api, ApiError, Body, secrets_path
from mediajobs.lifecycle.hitl import check_cookies, cookies_in, session_from_body
from mediajobs.lifecycle.logins import Login

SecretKey = tuple[str, CookiesRef]  # (namespace, the Secret and its key)


async def read_secret(api: Api, namespace: str, name: str) -> tuple[Body | None, str | None]:
    """The Secret (None: there is none), or why RBAC refused to read it. A refusal is
    said to a person, not fatal: the chart grants Secrets only where a namespace asks."""
    try:
        return await api.get(secrets_path(namespace, name), forbidden_stops=False), None
    except ApiError as err:
        if not (err.fatal and err.status == 403):
            raise  # planned again after a pause (controller/effects.py)
        return None, f"{err}; the chart's namespaces[].secrets grants it"


class Logins:
    def __init__(self, api: Api, clock: Clock) -> None:
        self.api, self.clock = api, clock
        self.known: dict[SecretKey, Login] = {}
        self.reading: dict[SecretKey, asyncio.Task[None]] = {}
        self.cleared: dict[SecretKey, datetime] = {}  # a session resolved: older reads are stale

    def of(self, namespace: str, secret: CookiesRef | None) -> Login | None:
        """The last verdict on SECRET (lifecycle/logins.py login_ref; None: none needed)."""
        return self.known.get((namespace, secret)) if secret is not None else None

    async def check(self, namespace: str, secret: CookiesRef) -> None:
        """Read the Secret and keep the verdict; checks of one Secret share one GET."""
        key = (namespace, secret)
        known = self.known.get(key)
        if known is not None and known.fresh(self.clock.now()):
            return  # read since this check was asked for (it waited for a writer slot)
        task = self.reading.get(key)
        if task is None:
            task = asyncio.create_task(self._read(key))
            self.reading[key] = task
            task.add_done_callback(lambda _: self.reading.pop(key, None))
        await asyncio.shield(task)  # one waiter cancelled does not cancel the others' read

    async def _read(self, key: SecretKey) -> None:
        sent = self.clock.now()
        namespace, ref = key
        secret, refused = await read_secret(self.api, namespace, ref.secret)
        problem, expires_at = check_cookies(cookies_in(secret, ref.key), self.clock.now())
        if refused is not None:
            problem, expires_at = refused, None
        if key in self.cleared and sent < self.cleared[key]:
            return  # read before a person logged in: the next check reads again
        self.known[key] = Login(problem, sent, expires_at)

    def observe_session(self, body: Mapping[str, Any]) -> None:
        """A HitlSession changed: once resolved, its Secret holds new cookies."""
        session = session_from_body(body)
        if session.status.phase != HitlPhase.RESOLVED:
            return
        key = (session.namespace, session.credentials)
        self.known.pop(key, None)
        self.cleared[key] = self.clock.now()
