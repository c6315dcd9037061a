"""The local cluster's certificates and admin token (openssl; standard library only)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _signed(p: Path, name: str, subject: str, extfile: Path | None = None) -> None:
    """NAME.key and NAME.crt for SUBJECT, signed by the CA in P."""
    _openssl("genrsa", "-out", str(p / f"{name}.key"), "2048")
    _openssl(
        "req", "-new", "-key", str(p / f"{name}.key"), "-subj", subject,
        "-out", str(p / f"{name}.csr"),
    )  # fmt: skip
    extra = ["-extfile", str(extfile)] if extfile is not None else []
    _openssl(
        "x509", "-req", "-in", str(p / f"{name}.csr"), "-CA", str(p / "ca.crt"),
        "-CAkey", str(p / "ca.key"), "-CAcreateserial", "-days", "3650",
        *extra, "-out", str(p / f"{name}.crt"),
    )  # fmt: skip


def make_pki(p: Path, sans: str, token_file: Path) -> None:
    """The CA, the API server's certificate for SANS, its kubelet client, the
    service-account key pair and the admin token; redone when SANS changed."""
    made = (p / "san.ext").read_text() if (p / "san.ext").exists() else None
    if (p / "kubelet-client.crt").exists() and made == sans + "\n":
        return
    p.mkdir(parents=True, exist_ok=True)
    _openssl("genrsa", "-out", str(p / "ca.key"), "2048")
    _openssl(
        "req", "-x509", "-new", "-nodes", "-key", str(p / "ca.key"), "-days", "3650",
        "-subj", "/CN=mediajobs-local-ca", "-out", str(p / "ca.crt"),
    )  # fmt: skip
    (p / "san.ext").write_text(sans + "\n")
    _signed(p, "apiserver", "/CN=kube-apiserver", p / "san.ext")
    # The API server's client certificate for the kubelet (logs, exec): an admin.
    _signed(p, "kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client")
    _openssl("genrsa", "-out", str(p / "sa.key"), "2048")
    _openssl("rsa", "-in", str(p / "sa.key"), "-pubout", "-out", str(p / "sa.pub"))
    token = os.urandom(24).hex()
    token_file.write_text(token)
    # token,user,uid,"group": the admin is in system:masters, as kubeadm's admin is.
    (p / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
    for key in p.glob("*.key"):
        key.chmod(0o600)
