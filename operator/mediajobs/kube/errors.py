"""What an API answer that is not a success means, classified once.

- temporary (429, 5xx, no answer): the client tries again, a bounded number of times;
- 401: the credentials were refused; the client logs in again and retries once, and when
  logging in again brings nothing new the error is fatal (`Unauthorized`);
- 403 from the authorizer (RBAC says no): fatal (`Forbidden`), said in one line naming
  the verb, the resource and the user; retrying cannot help. Other 403s (a quota, a
  namespace being deleted) stay ordinary errors for the caller;
- anything else: the caller's (409 on create means it exists, 404 on delete is done).

Pure: no I/O, so every case is a unit test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson

# The API server's authorizer says `User "u" cannot create resource "jobs" in API group
# "batch" ...` (responsewriters.forbiddenMessage); a quota or a terminating namespace
# answers 403 too, in other words.
_DENIED = re.compile(r'User "(?P<user>[^"]*)" cannot ')
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class ApiError(Exception):
    fatal = False  # retrying cannot help: the operator stops (see Forbidden, Unauthorized)

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def temporary(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.status == 0


class Fatal(ApiError):
    """Retrying cannot help: the message is one line for a person, and the operator stops."""

    fatal = True

    def __str__(self) -> str:
        return self.message


class Forbidden(Fatal):
    """RBAC forbids the request: what, for whom."""


class Unauthorized(Fatal):
    """The API server refused the credentials, and again after a new login."""


def resendable(method: str, body: Mapping[str, object] | None, error: ApiError) -> bool:
    """Whether a request that failed with the temporary ERROR may be sent again.

    A 429 was refused before any work. After no answer or a 5xx the request may have been
    done: a create is sent again only when its body names the object (a repeat is then a
    409, "it exists"); one that lets the server pick the name could make two.
    """
    if error.status == 429 or method != "POST":
        return True
    metadata = (body or {}).get("metadata")
    return isinstance(metadata, Mapping) and bool(metadata.get("name"))


def message_of(raw: bytes) -> str:
    """An error answer's message: a Status object's, or the text (a proxy's, a plain 404)."""
    try:
        status = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace").strip()[:500]
    return str(status.get("message", status)) if isinstance(status, dict) else str(status)


def describe(method: str, path: str, params: Mapping[str, str] | None = None) -> str:
    """A request in RBAC's words: "create jobs.batch in namespace ns", "watch mediajobs...",
    "get /version" for a path that names no resource."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    # /api/v1/... is the core group; /apis/GROUP/VERSION/... the others.
    if parts[:1] == ["api"] and len(parts) > 2:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) > 3:
        group, rest = parts[1], parts[3:]
    else:
        group, rest = "", []
    namespace = None
    if len(rest) > 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    name = rest[1] if len(rest) > 1 else None
    if method == "GET":
        verb = "watch" if (params or {}).get("watch") else ("get" if name or not rest else "list")
    else:
        verb = _VERBS.get(method, method.lower())
        if verb == "delete" and rest and name is None:
            verb = "deletecollection"
    if not rest:
        return f"{verb} {path}"
    resource = rest[0] + (f".{group}" if group else "")
    if len(rest) > 2:
        resource += "/" + "/".join(rest[2:])
    what = f"{verb} {resource}" + (f" {name}" if name else "")
    return what + (f" in namespace {namespace}" if namespace else "")


def classify(
    status: int,
    message: str,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    who: str = "",
) -> ApiError:
    """The error an answer of STATUS with MESSAGE stands for; WHO names the credentials."""
    if status == 403:
        denied = _DENIED.search(message)
        if denied is not None:
            return Forbidden(
                403,
                f"forbidden: cannot {describe(method, path, params)} as {denied['user']}"
                + (f" ({who})" if who else ""),
            )
    if status == 401:
        return refused(method, path, params, who=who)
    return ApiError(status, message)


def refused(
    method: str, path: str, params: Mapping[str, str] | None = None, *, who: str = ""
) -> Unauthorized:
    """The error of a 401 that logging in again did not cure."""
    return Unauthorized(
        401,
        "unauthorized: the API server refused the credentials"
        + (f" of {who}" if who else "")
        + f" to {describe(method, path, params)}, also after logging in again",
    )
