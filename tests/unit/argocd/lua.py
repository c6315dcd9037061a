"""Run an Argo CD health.lua on an object with Debian's Lua interpreters.

Argo CD runs a check from argocd-cm in gopher-lua, a Lua 5.1, with the base and
table libraries only (run_health.lua sets up the same), and decodes the object
from JSON: every number reaches the script as a double. Under lua5.1 numbers
are doubles too; under lua5.4 whole numbers stay integers, so a number shows
as "45" in both, as it does in gopher-lua.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.localcluster import REPO

CUSTOMIZATIONS = REPO / "manifests" / "argocd" / "resource_customizations"
HARNESS = Path(__file__).with_name("run_health.lua")
# gopher-lua is a Lua 5.1: 5.1 keeps the scripts off later syntax; 5.4 is what the issue names.
INTERPRETERS = ("lua5.1", "lua5.4")


@dataclass(frozen=True)
class Health:
    status: str
    message: str


def lua_string(text: str) -> str:
    """TEXT as a Lua string literal: printable ASCII as is, every other byte as \\ddd."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        safe = 32 <= byte < 127 and char not in '"\\'
        out.append(char if safe else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_value(value: Any) -> str:
    """VALUE (decoded JSON) as a Lua constructor; null keys are left out, as Argo CD does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, Mapping):
        items = [
            f"[{lua_string(str(k))}] = {lua_value(v)}" for k, v in value.items() if v is not None
        ]
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def health(script: Path, obj: Mapping[str, Any], interpreter: str) -> Health:
    """What SCRIPT says of OBJ, run by INTERPRETER."""
    done = subprocess.run(
        [interpreter, str(HARNESS), str(script)],
        input=f"return {lua_value(obj)}".encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed under {interpreter}: {done.stderr.decode()}"
    status, _, message = done.stdout.decode().partition("\n")
    return Health(status, message)
