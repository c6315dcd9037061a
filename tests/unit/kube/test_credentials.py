"""kube/credentials.py: when credentials are loaded again, the header, the SSL context."""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mediajobs.kube.credentials import Credentials, authorization, refresh_time
from tests.pki import client_cert, make_ca

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_plugin_credential_is_renewed_a_tenth_of_its_life_before_it_ends() -> None:
    assert refresh_time(T0, T0 + timedelta(seconds=5), token_file=False) == T0 + timedelta(
        seconds=4.5
    )
    # A long-lived one: at most 30 s early (not the kubernetes package's fixed 5 min).
    assert refresh_time(T0, T0 + timedelta(hours=1), token_file=False) == T0 + timedelta(
        minutes=59, seconds=30
    )
    # Already over when it arrived: renewed at once, not before it was loaded.
    assert refresh_time(T0, T0 - timedelta(seconds=1), token_file=False) == T0 - timedelta(
        seconds=1
    )


def test_a_token_file_is_read_again_every_minute_and_a_static_token_never() -> None:
    assert refresh_time(T0, None, token_file=True) == T0 + timedelta(minutes=1)
    assert refresh_time(T0, None, token_file=False) is None
    expires = T0 + timedelta(seconds=10)
    assert refresh_time(T0, expires, token_file=True) == T0 + timedelta(seconds=9)


def test_stale_from_the_refresh_time_on() -> None:
    c = Credentials("https://k", "w", refresh_at=T0)
    assert not c.stale(T0 - timedelta(microseconds=1))
    assert c.stale(T0)
    assert not Credentials("https://k", "w").stale(T0 + timedelta(days=999))


@pytest.mark.parametrize(
    ("api_key", "header"),
    [
        ("Bearer abc", "Bearer abc"),
        ("bearer abc\n", "Bearer abc"),  # a service-account token file's trailing newline
        ("Basic dTpw", "Basic dTpw"),
        ("", None),
        (None, None),
        ("Bearer ", None),
    ],
)
def test_the_authorization_header(api_key: str | None, header: str | None) -> None:
    assert authorization(api_key) == header
    c = Credentials("https://k", "w", authorization=authorization(api_key))
    assert c.headers() == ({"Authorization": header} if header else {})


def test_secrets_stay_out_of_repr() -> None:
    c = Credentials("https://k", "w", authorization="Bearer s3cr3t", proxy="http://u:pw@proxy:3128")
    assert "s3cr3t" not in repr(c)
    assert "pw@" not in repr(c)


def test_the_ssl_context_holds_the_ca_and_the_client_certificate(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    crt, key = client_cert(ca, tmp_path, "alice", ["team"])
    c = Credentials("https://k", "w", ca_file=str(ca[0]), cert_file=str(crt), key_file=str(key))
    ctx = c.tls.context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert [cert["subject"] for cert in ctx.get_ca_certs()] == [((("commonName", "test-ca"),),)]


def test_insecure_skip_tls_verify(tmp_path: Path) -> None:
    ctx = Credentials("https://k", "w", verify=False).tls.context()
    assert ctx.verify_mode == ssl.CERT_NONE
    assert not ctx.check_hostname


def test_same_identity_follows_the_header_and_the_files_content(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    crt, _ = client_cert(ca, tmp_path, "alice")
    a = Credentials("https://k", "w", authorization="Bearer 1", cert_file=str(crt))
    same = Credentials("https://k", "x", authorization="Bearer 1", cert_file=str(crt))
    other = Credentials("https://k", "w", authorization="Bearer 2", cert_file=str(crt))
    assert a.same_identity(same)
    assert not a.same_identity(other)
    # A certificate rotated in place (same path, a newer file) is a new identity.
    stat = crt.stat()
    os.utime(crt, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert not a.same_identity(
        Credentials("https://k", "w", authorization="Bearer 1", cert_file=str(crt))
    )
