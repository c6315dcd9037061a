"""Before admission: is the login a scrape or publish job needs there? Plain data.

A job whose operation acts on a platform (catalog ``NEEDS_PLATFORM``: scrapes,
publishing) runs with the cookies of its (creatorProfile, platform) session Secret
(``login_ref``: the one its login's HitlSession names in ``credentialsSecretRef``,
else ``platform_secret_name``, key ``cookies.json``; its pod mounts that same one).
Before it joins the queue the
operator checks them (lifecycle/hitl.py's check): missing or expired, the job waits
for a person in ``WaitingForHuman`` on that login's HitlSession (the path a worker's
exit 3 takes), holding no slot and no Job; usable, it is queued. When the session
resolves, the job is queued in its original order (plan.py).

What the operator keeps of a Secret is a ``Login``: the check's verdict and when the
first cookie expires, never a cookie. A verdict is fresh for ``FRESH_SECONDS``; a job
that is about to be queued with no fresh one asks for a check (``CheckLogin``), so a
flood of jobs for one login reads its Secret once per ``FRESH_SECONDS``
(controller/logins.py says why a GET, not a watch). A job already Queued (after a
check, or after its session resolved: the resolution was the check) is not checked
again: a verdict read before a person logged in must not send it back to wait. A
login lost while it waits in the queue is found by its worker, which exits 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mediajobs.api.mediajob import Phase
from mediajobs.catalog import NEEDS_PLATFORM
from mediajobs.jobs.naming import CookiesRef, credentials_ref
from mediajobs.lifecycle.hitl import Session, check_cookies
from mediajobs.lifecycle.records import Record

FRESH_SECONDS = 10.0


def platform_of(record: Record) -> str | None:
    """The platform RECORD's operation acts on (None: it acts on none)."""
    return record.spec.platform if record.spec.operation in NEEDS_PLATFORM else None


def login_ref(record: Record, session: Session | None) -> CookiesRef | None:
    """The Secret (and key) whose cookies RECORD needs: checked before admission and
    mounted by its pod (None: it needs none). SESSION is its login's HitlSession (named
    by its creatorProfile and platform), if there is one: its credentialsSecretRef wins."""
    platform, profile = platform_of(record), record.spec.creator_profile
    if platform is None or profile is None:
        return None  # the CRD requires both for these operations
    return session.credentials if session is not None else credentials_ref(profile, platform, None)


@dataclass(frozen=True)
class Login:
    """What a check of a session Secret found: PROBLEM (None: usable), when it was
    checked, and when the first of its cookies expires (None: none does)."""

    problem: str | None
    checked_at: datetime
    expires_at: datetime | None = None

    def problem_at(self, now: datetime) -> str | None:
        if self.problem is None and self.expires_at is not None and self.expires_at <= now:
            return "a cookie has expired since the Secret was read"
        return self.problem

    def fresh(self, now: datetime) -> bool:
        return now - self.checked_at < timedelta(seconds=FRESH_SECONDS)


def login_from(raw: bytes | None, now: datetime) -> Login:
    """The verdict on the cookies RAW (None: the Secret or its key is missing)."""
    problem, expires_at = check_cookies(raw, now)
    return Login(problem, now, expires_at)


@dataclass(frozen=True)
class CheckLogin:
    """About to be queued and no fresh verdict on its Secret: read it, then plan again."""

    secret: CookiesRef


@dataclass(frozen=True)
class NeedLogin:
    """Its login is missing or expired: wait for a person (WaitingForHuman, no slot)."""

    message: str


def login_step(
    record: Record, secret: CookiesRef | None, login: Login | None, now: datetime
) -> CheckLogin | NeedLogin | None:
    """What RECORD, ready to be queued (or Queued), needs first; None: nothing (no login
    needed, or a usable one). SECRET is its ``login_ref``, LOGIN the last verdict on it."""
    if secret is None or record.phase == Phase.QUEUED:
        return None
    if login is None or not login.fresh(now):
        return CheckLogin(secret)
    problem = login.problem_at(now)
    if problem is None:
        return None
    return NeedLogin(f"the platform session Secret {secret.secret} cannot be used: {problem}")
