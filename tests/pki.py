"""Certificates for tests, made with the openssl CLI (as hack/cluster.py makes the cluster's)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Sequence
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str = "test-ca") -> tuple[Path, Path]:
    """A self-signed CA: (certificate, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    crt, key = folder / f"{name}.crt", folder / f"{name}.key"
    _openssl("genrsa", "-out", str(key), "2048")
    _openssl(
        "req", "-x509", "-new", "-nodes", "-key", str(key), "-days", "2",
        "-subj", f"/CN={name}", "-out", str(crt),
    )  # fmt: skip
    return crt, key


def client_cert(
    ca: tuple[Path, Path], folder: Path, user: str, groups: Sequence[str] = ()
) -> tuple[Path, Path]:
    """A client certificate signed by CA for USER in GROUPS (the API server reads the
    subject's CN as the user name and each O as a group): (certificate, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    crt, key, csr = folder / f"{user}.crt", folder / f"{user}.key", folder / f"{user}.csr"
    _openssl("genrsa", "-out", str(key), "2048")
    subject = f"/CN={user}" + "".join(f"/O={group}" for group in groups)
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    ext = folder / f"{user}.ext"
    ext.write_text("extendedKeyUsage=clientAuth\n")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(crt),
    )  # fmt: skip
    return crt, key


def b64(path: Path) -> str:
    """A file as a kubeconfig's *-data field holds it."""
    return base64.b64encode(path.read_bytes()).decode()
