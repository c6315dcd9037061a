"""The entry point: every command the parser knows runs a command function; a bad line
is one line on stderr and exit 2, before any login."""

from __future__ import annotations

import argparse
import asyncio
import importlib

import pytest

from mediajobs.plugin import commands
from mediajobs.plugin.args import parser
from mediajobs.plugin.main import COMMANDS, main


def _choices(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_a_function() -> None:
    names = set()
    for name, sub in _choices(parser()).items():
        if name == "hitl":
            names |= {f"hitl {h}" for h in _choices(sub)}
        else:
            names.add(name)
    assert names == set(COMMANDS)
    for module, function in COMMANDS.values():
        found = getattr(importlib.import_module(f"{commands.__name__}.{module}"), function)
        assert asyncio.iscoroutinefunction(found), (module, function)


def test_a_bad_line_exits_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wait", "x", "--for=phase=Nope", "--kubeconfig", "/nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: argument --for: unknown phase")


def test_a_missing_kubeconfig_exits_1_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--kubeconfig", "/nowhere/config"]) == 1
    assert capsys.readouterr().err == "error: no kubeconfig at /nowhere/config\n"
