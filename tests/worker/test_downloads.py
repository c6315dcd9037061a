"""Inputs from URLs, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import quote

from tests.localcluster import free_port
from tests.worker.conftest import Work, streams

INVALID, TEMPORARY = 2, 75


def test_download_and_reencode(work: Work, http_base: str) -> None:
    url = f"http://user:hunter2@{http_base.removeprefix('http://')}/media/in/clip.mp4?token=s3cret"
    outcome = work("reencode_streaming", url, params={"preset": "ultrafast"}, allowPrivateUrls=True)
    assert outcome.result.outputs[0].path.endswith("/clip.mp4")  # named after the URL's path
    assert streams(outcome.output(), "video")[0]["codec_name"] == "h264"


def test_a_redirect_within_http_is_followed(work: Work, http_base: str) -> None:
    target = quote(f"{http_base}/media/in/photo.png", safe="")
    outcome = work("validate", f"{http_base}/redirect?to={target}", allowPrivateUrls=True)
    assert (outcome.result.data or {})["kind"] == "image"


def test_endless_redirects_are_refused(work: Work, http_base: str) -> None:
    outcome = work("validate", f"{http_base}/loop", allowPrivateUrls=True)
    assert (outcome.code, outcome.error) == (INVALID, "download refused: more than 5 redirects")


def test_file_urls_are_refused(work: Work) -> None:
    # The task's model refuses it before any download (as the CRD does at apply).
    outcome = work("validate", "file:///etc/passwd", allowPrivateUrls=True)
    assert (outcome.code, outcome.error) == (
        INVALID,
        "invalid task: inputs.0.url: Value error, must be an http:// or https:// URL with a host",
    )


def test_a_redirect_to_a_file_url_is_refused(work: Work, http_base: str) -> None:
    outcome = work(
        "validate", f"{http_base}/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd", allowPrivateUrls=True
    )
    assert (outcome.code, outcome.error) == (
        INVALID,
        "redirect refused: only http and https URLs are allowed, not file:",
    )


def test_private_addresses_are_refused_unless_allowed(work: Work, http_base: str) -> None:
    outcome = work("validate", f"{http_base}/media/in/clip.mp4")
    assert (outcome.code, outcome.error) == (
        INVALID,
        "download refused: 127.0.0.1 resolves to a private or local address (127.0.0.1)",
    )


def test_oversize_bodies_are_refused(work: Work, http_base: str) -> None:
    sized = work(
        "validate", f"{http_base}/media/in/long.mp4", allowPrivateUrls=True, maxDownloadBytes=50_000
    )
    assert (sized.code, sized.error) == (
        INVALID,
        "input is larger than the 50000-byte download limit",
    )
    unsized = work(
        "validate",
        f"{http_base}/unsized/3000000",
        allowPrivateUrls=True,
        maxDownloadBytes=1_000_000,
    )
    assert (unsized.code, unsized.error) == (
        INVALID,
        "input is larger than the 1000000-byte download limit",
    )


def test_server_errors_are_temporary_and_never_show_secrets(work: Work, http_base: str) -> None:
    url = f"http://user:hunter2@{http_base.removeprefix('http://')}/status/503?sig=s3cret"
    outcome = work("validate", url, allowPrivateUrls=True)
    assert (outcome.code, outcome.error) == (
        TEMPORARY,
        f"download failed: HTTP 503 from {http_base}/status/503",
    )
    assert "hunter2" not in outcome.error and "s3cret" not in outcome.error


def test_client_errors_are_permanent(work: Work, http_base: str) -> None:
    outcome = work("validate", f"{http_base}/status/404", allowPrivateUrls=True)
    assert (outcome.code, outcome.error) == (
        INVALID,
        f"download failed: HTTP 404 from {http_base}/status/404",
    )


def test_a_refused_connection_is_temporary(work: Work) -> None:
    url = f"http://127.0.0.1:{free_port()}/clip.mp4?token=s3cret"
    outcome = work("validate", url, allowPrivateUrls=True)
    assert outcome.code == TEMPORARY
    assert outcome.error.startswith("download failed: ")
    assert "s3cret" not in outcome.error
