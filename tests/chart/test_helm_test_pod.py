"""The `helm test` pod's script (charts/mediajobs/files/helm-test.py): its PNG is media."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

from tests.localcluster import REPO

SCRIPT = REPO / "charts" / "mediajobs" / "files" / "helm-test.py"


def test_its_png_is_an_image_ffprobe_reads(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("helm_test_pod", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    image = tmp_path / "t.png"
    image.write_bytes(module.png(8, 6))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(image)],
        capture_output=True,
        text=True,
        check=True,
    )
    (stream,) = json.loads(probe.stdout)["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("png", 8, 6)
