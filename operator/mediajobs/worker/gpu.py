"""Which H.264 encoder to use: NVENC when the pod has a GPU that really works, else libx264.

Debian's FFmpeg lists ``h264_nvenc`` on every machine and fails only when the
encoder opens (``Cannot load libcuda.so.1``), so ``-encoders`` proves nothing:
a one-frame trial encode does, once per process. The choice itself is a pure
function of (task.gpu, the trial's outcome, the requested CRF) so it is
testable without a GPU.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from typing import Any

from mediajobs.catalog.params import Preset
from mediajobs.worker.errors import log_line, one_line

FFMPEG = "ffmpeg"
LIBX264 = "libx264"
NVENC = "h264_nvenc"
TRIAL_TIMEOUT_S = 30

# x264's nine presets onto NVENC's p1 (fastest) .. p7 (best); medium = p4, both defaults.
NVENC_PRESETS: dict[Preset, str] = {
    Preset.ULTRAFAST: "p1",
    Preset.SUPERFAST: "p1",
    Preset.VERYFAST: "p2",
    Preset.FASTER: "p3",
    Preset.FAST: "p3",
    Preset.MEDIUM: "p4",
    Preset.SLOW: "p5",
    Preset.SLOWER: "p6",
    Preset.VERYSLOW: "p7",
}
# NVENC decodes these on the GPU too; for others FFmpeg would fall back to software anyway.
NVDEC_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg2video", "mpeg4"})


@dataclass(frozen=True)
class Trial:
    """The outcome of the one-frame NVENC trial encode."""

    ok: bool
    reason: str = ""  # why it failed, FFmpeg's last error line


@dataclass(frozen=True)
class Encoder:
    """The H.264 encoder chosen for a job, and why."""

    codec: str
    gpu_fallback: str | None = None  # set when a GPU was asked for and not used

    @property
    def nvenc(self) -> bool:
        return self.codec == NVENC

    def video_args(
        self, preset: Preset, crf: int | None = None, bitrate_k: int | None = None
    ) -> dict[str, Any]:
        """Output options: quality by CRF and/or a bitrate ceiling (maxrate, bufsize 2x).

        With a CRF the bitrate is a cap (VBV); without one it is the target.
        Always 8-bit 4:2:0, which every player and NVENC's H.264 take.
        """
        args: dict[str, Any] = {"c:v": self.codec, "pix_fmt": "yuv420p"}
        if self.nvenc:
            # -cq 0 means "automatic" to NVENC, so CRF 0 never reaches here (see choose_encoder).
            args |= {"preset": NVENC_PRESETS[preset], "tune": "hq", "rc": "vbr"}
            args |= {"cq": crf, "b:v": "0"} if crf is not None else {}
        else:
            args |= {"preset": preset.value}
            args |= {"crf": crf} if crf is not None else {}
        if bitrate_k is not None:
            if crf is None:
                args["b:v"] = f"{bitrate_k}k"
            args |= {"maxrate": f"{bitrate_k}k", "bufsize": f"{2 * bitrate_k}k"}
        return args

    def input_args(self, codec_name: str | None) -> dict[str, Any]:
        """Decode on the GPU too where NVDEC handles the input's codec."""
        return {"hwaccel": "cuda"} if self.nvenc and codec_name in NVDEC_CODECS else {}

    def data(self) -> dict[str, Any]:
        """What result.data says about the encoder."""
        out: dict[str, Any] = {"encoder": self.codec}
        if self.gpu_fallback is not None:
            out["gpuFallback"] = self.gpu_fallback
        return out


def choose_encoder(gpu: bool, trial: Trial | None, crf: int | None) -> Encoder:
    """NVENC when a GPU was asked for, the trial encoded a frame and NVENC can honour CRF."""
    if not gpu:
        return Encoder(LIBX264)
    if trial is None or not trial.ok:
        reason = trial.reason if trial is not None and trial.reason else "trial encode failed"
        return Encoder(LIBX264, gpu_fallback=f"{NVENC} unavailable: {reason}")
    if crf == 0:
        return Encoder(LIBX264, gpu_fallback=f"{NVENC} has no lossless CRF 0")
    return Encoder(NVENC)


def trial_argv() -> list[str]:
    return [
        FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "color=c=black:s=256x256:r=1",
        "-frames:v", "1", "-c:v", NVENC, "-f", "null", "-",
    ]  # fmt: skip


@functools.cache
def nvenc_trial() -> Trial:
    """Encode one frame with NVENC (once per process)."""
    try:
        done = subprocess.run(
            trial_argv(), capture_output=True, text=True, timeout=TRIAL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return Trial(ok=False, reason=one_line(str(err), 200))
    if done.returncode == 0:
        return Trial(ok=True)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return Trial(
        ok=False, reason=one_line(log_line(lines[0]) if lines else f"exit {done.returncode}", 200)
    )
