"""`helm test`: write a tiny PNG to the media volume, apply a `validate` MediaJob naming it,
wait until it ends, delete it. Standard library only (it runs in the operator image with
the pod's service-account token); exit status 0 when the MediaJob succeeded."""

from __future__ import annotations

import json
import os
import ssl
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

# In a pod: the mounted token and the API server's address the kubelet puts in the env.
ACCOUNT = Path(
    os.environ.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
)
HOST = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
SERVER = f"https://{HOST}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"


def png(width: int = 8, height: int = 8) -> bytes:
    """A grey WIDTHxHEIGHT PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def call(method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    token = (ACCOUNT / "token").read_text().strip()
    request = urllib.request.Request(  # noqa: S310 - SERVER is https, fixed above
        SERVER + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
    with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())  # type: ignore[no-any-return]


def main() -> int:
    namespace = os.environ["NAMESPACE"]
    deadline = time.monotonic() + float(os.environ.get("TIMEOUT_SECONDS", "300"))
    name = f"helm-test-{uuid.uuid4().hex[:8]}"
    relative = f"helm-test/{name}.png"
    target = Path(os.environ.get("MEDIA_DIR", "/media")) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(png())
    collection = f"/apis/mediajobs.dev/v1alpha1/namespaces/{namespace}/mediajobs"
    manifest: dict[str, object] = {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": name},
        "spec": {
            "operation": "validate",
            "input": {"path": relative},
            "ttlSecondsAfterFinished": 60,
        },
    }
    call("POST", collection, manifest)
    print(f"applied MediaJob {namespace}/{name}", flush=True)
    phase, message = "", ""
    try:
        while time.monotonic() < deadline:
            status = call("GET", f"{collection}/{name}").get("status")
            if not isinstance(status, dict):
                status = {}
            phase, message = str(status.get("phase", "")), str(status.get("message", ""))
            if phase in ("Succeeded", "Failed", "Cancelled"):
                break
            time.sleep(1)  # a poll interval with a deadline, not a wait for "long enough"
    finally:
        try:
            call("DELETE", f"{collection}/{name}")
        except urllib.error.HTTPError as err:
            print(f"cleanup: {err}", file=sys.stderr)
        target.unlink(missing_ok=True)
    print(f"MediaJob {name}: {phase or 'no phase'} {message}".rstrip(), flush=True)
    return 0 if phase == "Succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
