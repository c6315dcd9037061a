"""What a HitlSession needs next, decided from plain data (the session, its Secret, now).

A session opens Pending (its expiry set ttlSeconds after creation). When a person
sets ``spec.resolution`` the stored cookies are checked: usable ones resolve it,
otherwise it is InProgress and the status says why (never a cookie's value).
``spec.cancel`` cancels it; reaching ``expiresAt`` unresolved expires it. Resolved,
Cancelled and Expired are final. The operator's shell (controller/hitl.py) reads the
Secret, carries the step out and plans again at ``check_at``.

The cookies (the platform session Secret, key ``cookies.json`` unless the session's
``credentialsSecretRef`` says otherwise) are JSON: a list of cookie objects, or an
object whose ``cookies`` is that list (Playwright's storage state, what browser
extensions export). A cookie has a ``name`` and a ``value``; ``expires`` (Unix
seconds; absent, null or -1 for a session cookie) is what is checked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mediajobs.api.common import API_VERSION, Condition, ConditionStatus
from mediajobs.api.conditions import one_line, set_condition
from mediajobs.api.hitl import KIND, HitlPhase, HitlSessionSpec, HitlSessionStatus
from mediajobs.jobs.naming import (
    COOKIES_KEY,
    MANAGED_BY_LABEL,
    MANAGER,
    CookiesRef,
    credentials_ref,
)
from mediajobs.lifecycle.statuses import Event

RESOLVED = "Resolved"  # the condition kubectl wait --for=condition=Resolved reads
OPEN = frozenset({None, HitlPhase.PENDING, HitlPhase.IN_PROGRESS})
LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z


@dataclass(frozen=True)
class Session:
    """One HitlSession as plain data."""

    namespace: str
    name: str
    generation: int
    created: datetime
    spec: HitlSessionSpec
    status: HitlSessionStatus

    @property
    def open(self) -> bool:
        return self.status.phase in OPEN

    @property
    def expires_at(self) -> datetime:
        return self.created + timedelta(seconds=self.spec.ttl_seconds)

    @property
    def credentials(self) -> CookiesRef:
        """The Secret and key holding this login's cookies (jobs/naming.py credentials_ref)."""
        spec = self.spec
        return credentials_ref(spec.creator_profile, spec.platform, spec.credentials_secret_ref)


def session_from_body(body: Mapping[str, Any]) -> Session:
    meta = body["metadata"]
    return Session(
        meta["namespace"],
        meta["name"],
        int(meta.get("generation", 1)),
        datetime.fromisoformat(meta["creationTimestamp"]),
        HitlSessionSpec.model_validate(body["spec"]),
        HitlSessionStatus.model_validate(body.get("status") or {}),
    )


def session_body(namespace: str, name: str, spec: HitlSessionSpec) -> dict[str, Any]:
    """A new HitlSession, as the operator opens it for a job that needs a login."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY_LABEL: MANAGER}},
        "spec": spec.model_dump(by_alias=True, mode="json", exclude_none=True),
    }


@dataclass(frozen=True)
class Step:
    """STATUS: the fields to merge-patch (None: nothing to write); EVENT to post;
    CHECK_AT: plan again then (the expiry), if still open."""

    status: HitlSessionStatus | None
    event: Event | None = None
    check_at: datetime | None = None


def _cookie_problem(cookie: object, now: datetime) -> str | None:
    """Why COOKIE is not a usable cookie ("expired" when it has expired)."""
    if not isinstance(cookie, dict) or not all(
        isinstance(cookie.get(k), str) for k in ("name", "value")
    ):
        return "every cookie needs a name and a value"
    expires = cookie.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int | float | None):
        return f"cookie {cookie['name'][:64]!r}: expires must be Unix seconds"
    if expires is not None and 0 <= expires <= now.timestamp():
        return "expired"
    return None


def cookies_in(secret: Mapping[str, Any] | None, key: str = COOKIES_KEY) -> bytes | None:
    """The cookies stored under KEY in the Secret SECRET (None: it or its key is missing)."""
    encoded = ((secret or {}).get("data") or {}).get(key)
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return b""  # not base64: refused as "not JSON", its content unsaid


def cookies_problem(raw: bytes | None, now: datetime) -> str | None:
    """Why the stored cookies RAW cannot be used (None: they can). RAW None: the Secret
    or its key is missing. What is said names cookies, never their values."""
    return check_cookies(raw, now)[0]


def check_cookies(raw: bytes | None, now: datetime) -> tuple[str | None, datetime | None]:
    """(why RAW cannot be used, or None; when the first of its usable cookies expires,
    or None if none expires)."""
    if raw is None:
        return "the Secret or its cookies key is missing", None
    try:
        parsed: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "the cookies are not JSON", None
    cookies = parsed.get("cookies") if isinstance(parsed, dict) else parsed
    if not isinstance(cookies, list) or not cookies:
        return "no cookies: expected a JSON list of cookies, or an object with 'cookies'", None
    problems = [(c, _cookie_problem(c, now)) for c in cookies]
    wrong = next((p for _, p in problems if p not in {None, "expired"}), None)
    if wrong is not None:
        return wrong, None
    expired = [repr(c["name"][:64]) for c, p in problems if p == "expired"]
    if expired:
        return f"{len(expired)} cookie(s) have expired: {', '.join(expired[:5])}", None
    ends = [c["expires"] for c in cookies if c.get("expires") is not None and c["expires"] >= 0]
    # Clamped to the year 9999: a cookie "expiring" past it never expires.
    first = min(ends, default=None)
    return None, (
        datetime.fromtimestamp(min(first, LAST_SECOND), UTC) if first is not None else None
    )


def _second(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(microsecond=0)


def _status(
    session: Session,
    phase: HitlPhase,
    now: datetime,
    reason: str,
    message: str,
    *,
    more: HitlSessionStatus | None = None,
) -> HitlSessionStatus:
    resolved: ConditionStatus = "True" if phase == HitlPhase.RESOLVED else "False"
    conditions: list[Condition] = list(session.status.conditions or [])
    conditions, _ = set_condition(
        conditions, RESOLVED, resolved, reason, message, now=now, generation=session.generation
    )
    extra = {n: getattr(more, n) for n in more.model_fields_set} if more else {}
    return HitlSessionStatus(
        phase=phase,
        message=one_line(message),
        expires_at=_second(session.expires_at),
        observed_generation=session.generation,
        conditions=conditions,
        **extra,
    )


def _close(
    session: Session,
    phase: HitlPhase,
    now: datetime,
    reason: str,
    message: str,
    *,
    more: HitlSessionStatus | None = None,
) -> Step:
    # Not cut to the second: a job compares it with when it began to wait (plan.py).
    closed = HitlSessionStatus(closed_at=now)
    if more is not None:
        closed = closed.model_copy(update={n: getattr(more, n) for n in more.model_fields_set})
    status = _status(session, phase, now, reason, message, more=closed)
    kind = "Normal" if phase == HitlPhase.RESOLVED else "Warning"
    return Step(status, Event(kind, reason, one_line(message)))


def plan(
    session: Session, cookies: bytes | None, now: datetime, *, unreadable: str | None = None
) -> Step:
    """The next step for SESSION; COOKIES what its Secret holds (None: missing), read
    only when spec.resolution is set; UNREADABLE why the Secret could not be read."""
    if not session.open:
        return Step(None)
    spec = session.spec
    if spec.cancel:
        return _close(session, HitlPhase.CANCELLED, now, "Cancelled", "cancelled by spec.cancel")
    problem = (unreadable or cookies_problem(cookies, now)) if spec.resolution else None
    if spec.resolution is not None and problem is None:
        method = spec.resolution.method
        return _close(
            session,
            HitlPhase.RESOLVED,
            now,
            RESOLVED,
            f"resolved by {method}",
            more=HitlSessionStatus(resolution_method=method, resolved_at=_second(now)),
        )
    if session.expires_at <= now:
        ttl = spec.ttl_seconds
        return _close(
            session, HitlPhase.EXPIRED, now, "Expired", f"nobody resolved it within {ttl}s"
        )
    if spec.resolution is not None:
        phase, reason = HitlPhase.IN_PROGRESS, "CookiesRefused"
        message = f"{spec.resolution.method}: the stored cookies were refused: {problem}"
    else:
        phase, reason = HitlPhase.PENDING, "WaitingForLogin"
        message = spec.alert_message or f"log in to {spec.platform} as {spec.creator_profile}"
    status = _status(session, phase, now, reason, message)
    same = (
        session.status.phase == phase
        and session.status.message == status.message
        and session.status.observed_generation == session.generation
        and session.status.expires_at == status.expires_at
    )
    opened = (
        Event("Warning", "LoginRequired", one_line(message))
        if session.status.phase is None
        else None
    )
    refused = (
        Event("Warning", reason, one_line(message)) if phase == HitlPhase.IN_PROGRESS else None
    )
    return Step(None if same else status, None if same else (opened or refused), session.expires_at)
