"""The analysis pass: one decode printing scene scores, motion and loudness, parsed.

The picture is thinned to ANALYSIS_FPS and shrunk to ANALYSIS_WIDTH before it
is measured (a cut or a burst of motion shows as well at 256 pixels), so the
pass costs little more than the decode; ``select`` computes each frame's scene
score, ``signalstats`` its YDIF (mean luma difference from the frame before),
``ebur128`` the sound's momentary loudness every 100 ms. Each ``metadata``
filter prints its one key to its own file in the scratch directory.
"""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from mediajobs.worker.analysis import parse_metadata
from mediajobs.worker.argv import Command, Source, command, open_input
from mediajobs.worker.highlights.windows import Measures
from mediajobs.worker.run import Report, run

ANALYSIS_FPS = 10
ANALYSIS_WIDTH = 256
SCENE = "lavfi.scene_score"
MOTION = "lavfi.signalstats.YDIF"
LOUDNESS = "lavfi.r128.M"


def files(scratch: Path) -> dict[str, Path]:
    """Where each key is printed."""
    return {key: scratch / f"{key.rsplit('.', 1)[-1]}.txt" for key in (SCENE, MOTION, LOUDNESS)}


def analysis(source: Source, printed: dict[str, Path]) -> Command:
    """The pass over SOURCE printing each key to its file in PRINTED."""
    picture, sound = open_input(source)
    measured = (
        picture.filter("setpts", "PTS-STARTPTS")  # times from zero, as -ss counts them
        .filter("fps", ANALYSIS_FPS)
        .filter("scale", ANALYSIS_WIDTH, -2)
        .filter("select", "gte(scene,0)")  # every frame passes; the score is computed
        .filter("metadata", mode="print", key=SCENE, file=str(printed[SCENE]))
        .filter("signalstats")
        .filter("metadata", mode="print", key=MOTION, file=str(printed[MOTION]))
    )
    outputs = [measured]
    if sound is not None:
        loudness = (
            sound.filter("asetpts", "PTS-STARTPTS")
            .filter("ebur128", metadata=1)
            .filter("ametadata", mode="print", key=LOUDNESS, file=str(printed[LOUDNESS]))
        )
        outputs.append(loudness)
    return command(ffmpeg.output(*outputs, "-", f="null"), source.probe.media_duration)


def _series(path: Path, key: str) -> list[tuple[float, float]]:
    if not path.exists():  # no sound, or no frame at all
        return []
    with path.open(encoding="utf-8", errors="replace") as lines:
        return parse_metadata(lines, key)


def measure(source: Source, scratch: Path, report: Report) -> Measures:
    """Run the analysis pass over SOURCE and read what it printed."""
    printed = files(scratch)
    run(analysis(source, printed), report)
    return Measures(
        scene=_series(printed[SCENE], SCENE),
        motion=_series(printed[MOTION], MOTION),
        loudness=_series(printed[LOUDNESS], LOUDNESS),
    )
