"""Where the scraper may connect: the FFmpeg worker's address rules (worker/download.py).

No private, loopback, link-local or otherwise non-global address (unless the task's
``allowPrivateUrls``), checked at connection time for every host either adapter
reaches: redirects, subresources and the upload endpoint included. httpx connects to
the very address that was vetted (a second DNS answer cannot swap it); Chromium does
its own resolving, so a request is vetted just before Chromium sends it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from mediajobs.worker.download import resolve, vetted_address


def vet(host: str, port: int, allow_private: bool) -> str:
    """The address to use for HOST:PORT; InvalidInput when it is not allowed."""
    return vetted_address(host, resolve(host, port), allow_private, doing="request")


def vet_url(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    vet(parts.hostname or "", parts.port or (443 if https else 80), allow_private)


class _VettingBackend(httpcore.SyncBackend):
    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        address = vet(host, port, self._allow_private)
        # TLS still checks the certificate against HOST: httpcore names the origin's host.
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class VettedTransport(httpx.HTTPTransport):
    """httpx's transport whose every connection goes to a vetted address."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend: its pool is made again with ours (same defaults).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=_VettingBackend(allow_private),
        )
