"""Names and labels of the Jobs the operator creates.

A Job's name is a pure function of (MediaJob name, uid, run): creating it
twice is a harmless 409 instead of a second Job, and a crash between "decide"
and "create" converges. A run is one Job: each attempt's first, and another of the
same attempt when a worker found itself logged out (exit 3: no retry spent, the
attempt goes on once a person has logged in). ``status.runs`` counts them and names
the next, ``status.attempts`` counts the attempts; both are on the Job's labels, so
an operator restarted between a create and its status write reads them back. The
uid's hash is always part of the name, so a MediaJob deleted and recreated under the
same name never collides with the old Job its garbage collector has not removed yet.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mediajobs.api.common import GROUP, Category
from mediajobs.api.hitl import SecretRef

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGER = "mediajobs"
MEDIAJOB_LABEL = f"{GROUP}/mediajob"
UID_LABEL = f"{GROUP}/uid"
ATTEMPT_LABEL = f"{GROUP}/attempt"
RUN_LABEL = f"{GROUP}/run"
CATEGORY_LABEL = f"{GROUP}/category"
POOL_LABEL = f"{GROUP}/gpu-pool"  # the GPU pool an admitted Job's VRAM is counted in
# The one container of a Job's pod; podFailurePolicy and the outcome look it up by name.
CONTAINER = "worker"
# The platform session Secret's key holding the login cookies (lifecycle/hitl.py's format).
COOKIES_KEY = "cookies.json"

# Label values and DNS-1123 labels (the Job controller copies the Job's name
# into its pods' `job-name` label) are at most 63 characters.
MAX_LABEL = 63
HASH_CHARS = 6


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def job_name(mediajob_name: str, uid: str, run: int) -> str:
    """``<name>-<uid hash>-<run>``, the name truncated so the whole fits 63 characters.

    MediaJob names are DNS-1123 subdomains (up to 253 characters, dots allowed);
    Job names must stay valid label values, hence the truncation and the dots
    turned into dashes.
    """
    suffix = f"-{_hash(uid)}-{run}"
    stem = re.sub(r"[^a-z0-9-]", "-", mediajob_name.lower()).strip("-")
    stem = stem[: MAX_LABEL - len(suffix)].rstrip("-") or "mj"
    return stem + suffix


def label_value(text: str) -> str:
    """TEXT when it is a valid label value, else its first characters and a hash of all of it."""
    if len(text) <= MAX_LABEL and re.fullmatch(
        r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?", text
    ):
        return text
    stem = re.sub(r"[^-A-Za-z0-9_.]", "-", text)[: MAX_LABEL - HASH_CHARS - 1]
    return f"{stem.strip('-_.')}-{_hash(text)}".lstrip("-")


def job_labels(
    *, name: str, uid: str, attempt: int, run: int, category: Category
) -> dict[str, str]:
    """Labels of a Job and its pods; select by uid (the name label is shortened past 63)."""
    return {
        MANAGED_BY_LABEL: MANAGER,
        MEDIAJOB_LABEL: label_value(name),
        UID_LABEL: uid,
        ATTEMPT_LABEL: str(attempt),
        RUN_LABEL: str(run),
        CATEGORY_LABEL: category.value,
    }


def _dns_stem(text: str, room: int) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower()).strip("-")[:room].rstrip("-")


def hitl_session_name(creator_profile: str, platform: str) -> str:
    """``login-<profile>-<platform>-<hash>``: one name per (profile, platform) in a
    namespace, so two jobs needing the same login share one HitlSession. The hash of
    both is always there: profiles differing only in case or '_' vs '-' never collide."""
    suffix = f"-{platform}-{_hash(creator_profile + '/' + platform)}"
    stem = _dns_stem(creator_profile, MAX_LABEL - len("login-") - len(suffix)) or "p"
    return f"login-{stem}{suffix}"


def platform_secret_name(creator_profile: str, platform: str) -> str:
    """The Secret holding the (profile, platform) login cookies, unless a session's
    credentialsSecretRef names another: ``session-<profile>-<platform>-<hash>``."""
    return "session-" + hitl_session_name(creator_profile, platform).removeprefix("login-")


@dataclass(frozen=True)
class CookiesRef:
    """A Secret (by name, in the job's namespace) and the key holding login cookies."""

    secret: str
    key: str


def credentials_ref(creator_profile: str, platform: str, named: SecretRef | None) -> CookiesRef:
    """Where the (profile, platform) login cookies are: the Secret and key NAMED (the
    credentialsSecretRef of that login's HitlSession, if it has one; a missing key is
    ``cookies.json``), else ``platform_secret_name``'s ``cookies.json``. The one answer
    for the check before admission, the session's resolution and the scraper pod's mount."""
    if named is None:
        return CookiesRef(platform_secret_name(creator_profile, platform), COOKIES_KEY)
    return CookiesRef(named.name, named.key or COOKIES_KEY)
