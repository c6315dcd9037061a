"""The worker's dispatch table: every FFmpeg operation has one handler, in the module named."""

from __future__ import annotations

import importlib

from mediajobs.api.common import Operation
from mediajobs.catalog import CATALOG, Runner
from mediajobs.worker.execute import HANDLER_MODULES, PLAIN, handler_for

FFMPEG = {op for op, e in CATALOG.items() if e.runner is Runner.FFMPEG}


def test_every_ffmpeg_operation_resolves_to_a_handler() -> None:
    for operation in FFMPEG:
        handler, kinds = handler_for(operation)
        assert callable(handler) and kinds, operation


def test_each_module_holds_exactly_the_operations_dispatched_to_it() -> None:
    modules = {PLAIN, *HANDLER_MODULES.values()}
    held: dict[Operation, list[str]] = {}
    for name in modules:
        for operation in importlib.import_module(name).HANDLERS:
            held.setdefault(operation, []).append(name)
    assert set(held) == FFMPEG  # no operation lost, none the FFmpeg worker does not run
    for operation, names in held.items():
        assert names == [HANDLER_MODULES.get(operation, PLAIN)], operation
