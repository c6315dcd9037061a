"""The library operations' handlers, by operation (execute loads them for these only)."""

from __future__ import annotations

from mediajobs.api.common import Operation
from mediajobs.worker.library.compilation import compile_from_index
from mediajobs.worker.library.move import move_to_library
from mediajobs.worker.library.scan import public_scan, scan
from mediajobs.worker.operations import VIDEOS, HandlerTable

# The kinds are what spec.input may be: only move_to_library takes one.
HANDLERS: HandlerTable = {
    Operation.SCAN: (scan, VIDEOS),
    Operation.PUBLIC_SCAN: (public_scan, VIDEOS),
    Operation.MOVE_TO_LIBRARY: (move_to_library, VIDEOS),
    Operation.COMPILE_RANDOM: (compile_from_index, VIDEOS),
    Operation.COMPILE_MEGA: (compile_from_index, VIDEOS),
}
