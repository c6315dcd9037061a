"""What a request to the API server needs to authenticate, as plain data.

kube/login.py fills a `Credentials` from the `kubernetes` package's loader;
kube/client.py sends it: the Authorization header, an SSL context (the CA, a
client certificate), a proxy, a TLS server name. What follows from it is decided
here, without I/O: when to load again, whether a fresh load brought anything new.

When to load again: an exec plugin's credential at its expirationTimestamp, less a
tenth of its lifetime (at most 30 s) so that a request does not carry it past
its end (the `kubernetes` package's own refresh hook keeps a fixed 5 min margin,
which re-runs a plugin whose credentials live less than that on every request);
a token read from a file (a pod's projected service-account token, a kubeconfig's
`tokenFile`) every minute, as client-go does, since the kubelet rotates it in place.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

MAX_MARGIN = timedelta(seconds=30)
FILE_TOKEN_PERIOD = timedelta(minutes=1)


def refresh_time(
    loaded_at: datetime, expires: datetime | None, *, token_file: bool
) -> datetime | None:
    """When credentials loaded at LOADED_AT that end at EXPIRES are loaded again (None: never,
    until the API server refuses them)."""
    if expires is not None:
        return expires - min(MAX_MARGIN, max(expires - loaded_at, timedelta(0)) / 10)
    if token_file:
        return loaded_at + FILE_TOKEN_PERIOD
    return None


def authorization(value: str | None) -> str | None:
    """The Authorization header from the loader's api_key: a canonical scheme, no stray
    whitespace (a token file's trailing newline would make an invalid header)."""
    if not value or not value.strip():
        return None
    scheme, _, token = value.strip().partition(" ")
    return f"{scheme.capitalize()} {token.strip()}" if token.strip() else None


def _stamp(path: str | None) -> tuple[str, int] | None:
    """A file as it is now: its path and modification time (a rotated file is new)."""
    if path is None:
        return None
    try:
        return path, Path(path).stat().st_mtime_ns
    except OSError:
        return path, -1


@dataclass(frozen=True)
class Tls:
    """What an SSL context is built from; equal when nothing in it changed."""

    ca_file: tuple[str, int] | None
    cert_file: tuple[str, int] | None
    key_file: tuple[str, int] | None
    verify: bool

    def context(self) -> ssl.SSLContext:
        """The SSL context (reads the files: Python's ssl loads keys only from files)."""
        ctx = ssl.create_default_context(cafile=self.ca_file[0] if self.ca_file else None)
        if not self.verify:  # insecure-skip-tls-verify
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file[0], self.key_file[0])
        return ctx


@dataclass(frozen=True)
class Credentials:
    server: str  # https://host:port, maybe with a path (a proxying gateway's)
    who: str  # names the credentials in messages: a kubeconfig context and user, a token file
    authorization: str | None = field(default=None, repr=False)  # never in a log
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    tls_server_name: str | None = None
    proxy: str | None = field(default=None, repr=False)  # may hold a password
    refresh_at: datetime | None = None  # load again from then on (refresh_time)
    tls: Tls = field(init=False, compare=False)

    def __post_init__(self) -> None:
        tls = Tls(_stamp(self.ca_file), _stamp(self.cert_file), _stamp(self.key_file), self.verify)
        object.__setattr__(self, "tls", tls)

    def stale(self, now: datetime) -> bool:
        return self.refresh_at is not None and now >= self.refresh_at

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization} if self.authorization else {}

    def same_identity(self, other: Credentials) -> bool:
        """Whether OTHER proves the same identity: the same header and TLS material."""
        return self.authorization == other.authorization and self.tls == other.tls
