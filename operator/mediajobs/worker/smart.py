"""The smart operations' handlers, by operation: highlights and auto_reframe.

Apart from :mod:`operations` so that a plain task's worker never loads them
(:mod:`execute` imports the table of the task's operation only).
"""

from __future__ import annotations

from mediajobs.api.common import Operation
from mediajobs.worker.highlights import handlers as highlights
from mediajobs.worker.operations import VIDEOS, HandlerTable, on_video
from mediajobs.worker.reframe.handler import auto_reframe

HANDLERS: HandlerTable = {
    Operation.SCENE_EXTRACT: (on_video(highlights.scene_extract), VIDEOS),
    Operation.HIGHLIGHT_GENERATE: (on_video(highlights.highlight_generate), VIDEOS),
    Operation.CLIP_GENERATE: (on_video(highlights.clip_generate), VIDEOS),
    Operation.DIGEST_GENERATE: (on_video(highlights.digest_generate), VIDEOS),
    Operation.AUTO_REFRAME: (on_video(auto_reframe), VIDEOS),
}
