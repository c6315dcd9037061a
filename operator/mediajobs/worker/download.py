"""Inputs from http(s) URLs: checked, pinned to a vetted address, streamed with a cap.

http and https only, every redirect checked again; the host's addresses are
vetted (no private, loopback, link-local or otherwise non-global address
unless the task allows private URLs) and the connection goes to the vetted
address itself, so a second DNS answer cannot swap it. The body is streamed
to the scratch dir with a size cap and a socket timeout. Messages show URLs
redacted (no userinfo, no query). Imported only when a task has a URL.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from mediajobs.worker.errors import InvalidInput, TemporaryFailure, from_os_error, redact_url

MAX_REDIRECTS = 5
DOWNLOAD_TIMEOUT_S = 30.0  # per connect and per read: a stalled server fails, a slow one goes on
CHUNK = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_STATUS = frozenset({408, 425, 429})
USER_AGENT = "mediajobs-worker"


def check_url(url: str) -> SplitResult:
    """The URL's parts if it is http(s) with a host; InvalidInput otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as err:
        raise InvalidInput(f"malformed URL: {redact_url(url)}") from err
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(f"only http and https URLs are allowed, not {parts.scheme or 'none'}:")
    if not parts.hostname:
        raise InvalidInput(f"URL has no host: {redact_url(url)}")
    return parts


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a download may connect to ADDRESS (an IP literal)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return not (ip.is_unspecified or ip.is_multicast)
    return ip.is_global and not ip.is_multicast


def vetted_address(
    host: str, addresses: list[str], allow_private: bool, doing: str = "download"
) -> str:
    """The address to connect to: every address HOST resolves to must be allowed."""
    if not addresses:
        raise TemporaryFailure(f"{doing} failed: {host} has no address")
    refused = [a for a in addresses if not address_allowed(a, allow_private)]
    if refused:
        raise InvalidInput(
            f"{doing} refused: {host} resolves to a private or local address ({refused[0]})"
        )
    return addresses[0]


def resolve(host: str, port: int) -> list[str]:
    """HOST's addresses; an IP literal is its own (vetted as written, whether or not
    the resolver could make sense of it: a link-local zone it cannot resolve is
    still a link-local address, refused for good rather than retried)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [host]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise TemporaryFailure(f"download failed: cannot resolve {host}: {err.strerror}") from err
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a vetted address, whatever DNS says by the time we connect."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a vetted address; the certificate is still checked against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _request(
    parts: SplitResult, address: str, timeout: float, authorization: str | None
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    conn_class = _PinnedHTTPS if https else _PinnedHTTP
    conn = conn_class(host, port, address, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        conn.request("GET", target, headers=headers)
        return conn, conn.getresponse()
    except BaseException:
        conn.close()
        raise


def _basic_auth(parts: SplitResult) -> str | None:
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _copy_capped(body: IO[bytes], dest: Path, max_bytes: int) -> None:
    written = 0
    try:
        with dest.open("wb") as out:
            while chunk := body.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise InvalidInput(f"input is larger than the {max_bytes}-byte download limit")
                out.write(chunk)
    except OSError as err:
        if isinstance(err, TimeoutError | ConnectionError):
            raise  # the network's fault, not the disk's: classified by the caller
        raise from_os_error(err, "saving the download") from err


def _get(
    parts: SplitResult,
    dest: Path,
    authorization: str | None,
    *,
    max_bytes: int,
    allow_private: bool,
    timeout: float,
) -> SplitResult | None:
    """One request: the body saved to DEST (None), or where a redirect points."""
    shown = redact_url(parts.geturl())
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    address = vetted_address(host, resolve(host, port), allow_private)
    try:
        conn, response = _request(parts, address, timeout, authorization)
        try:
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                try:
                    return check_url(urljoin(parts.geturl(), location))
                except InvalidInput as err:
                    raise InvalidInput(f"redirect refused: {err}") from err
            _check_status(response.status, shown)
            length = response.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise InvalidInput(f"input is larger than the {max_bytes}-byte download limit")
            _copy_capped(response, dest, max_bytes)
            return None
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise TemporaryFailure(f"download failed: {reason} ({shown})") from err


def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    allow_private: bool = False,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Stream URL into DEST, following up to MAX_REDIRECTS redirects, each checked anew.

    Credentials in the URL go (as Basic auth) to its own host only, never to a redirect's.
    """
    hop = check_url(url)
    origin, authorization = hop.hostname, _basic_auth(hop)
    for _ in range(MAX_REDIRECTS + 1):
        auth = authorization if hop.hostname == origin else None
        redirect = _get(
            hop, dest, auth, max_bytes=max_bytes, allow_private=allow_private, timeout=timeout
        )
        if redirect is None:
            return dest
        hop = redirect
    raise InvalidInput(f"download refused: more than {MAX_REDIRECTS} redirects")


def _check_status(status: int, shown: str) -> None:
    if status == 200:
        return
    if status >= 500 or status in _RETRYABLE_STATUS:
        raise TemporaryFailure(f"download failed: HTTP {status} from {shown}")
    raise InvalidInput(f"download failed: HTTP {status} from {shown}")


def url_name(url: str) -> str:
    """The last path segment of URL (for naming outputs), without the query."""
    return unquote(PurePosixPath(urlsplit(url).path).name)
