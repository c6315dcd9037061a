"""The encoder choice: a pure function of (task.gpu, the trial's outcome, the CRF)."""

from __future__ import annotations

import pytest

from mediajobs.catalog.params import Preset
from mediajobs.worker.gpu import (
    LIBX264,
    NVENC,
    NVENC_PRESETS,
    Encoder,
    Trial,
    choose_encoder,
    trial_argv,
)

NO_GPU = Trial(ok=False, reason="Cannot load libcuda.so.1")


@pytest.mark.parametrize(
    ("gpu", "trial", "crf", "codec", "fallback"),
    [
        (False, None, 23, LIBX264, None),
        (False, Trial(ok=True), 23, LIBX264, None),  # no GPU asked for: no NVENC, no excuse
        (True, Trial(ok=True), 23, NVENC, None),
        (True, Trial(ok=True), None, NVENC, None),
        (True, NO_GPU, 23, LIBX264, "h264_nvenc unavailable: Cannot load libcuda.so.1"),
        (True, None, 23, LIBX264, "h264_nvenc unavailable: trial encode failed"),
        (True, Trial(ok=False), 23, LIBX264, "h264_nvenc unavailable: trial encode failed"),
        (True, Trial(ok=True), 0, LIBX264, "h264_nvenc has no lossless CRF 0"),
    ],
)
def test_choose_encoder(
    gpu: bool, trial: Trial | None, crf: int | None, codec: str, fallback: str | None
) -> None:
    encoder = choose_encoder(gpu, trial, crf)
    assert (encoder.codec, encoder.gpu_fallback) == (codec, fallback)


def test_result_data_says_which_encoder_and_why_not_the_gpu() -> None:
    assert choose_encoder(False, None, 23).data() == {"encoder": "libx264"}
    assert choose_encoder(True, NO_GPU, 23).data() == {
        "encoder": "libx264",
        "gpuFallback": "h264_nvenc unavailable: Cannot load libcuda.so.1",
    }
    assert choose_encoder(True, Trial(ok=True), 23).data() == {"encoder": "h264_nvenc"}


def test_every_x264_preset_maps_onto_p1_to_p7_in_order() -> None:
    levels = [int(NVENC_PRESETS[p][1:]) for p in Preset]  # Preset is declared fastest first
    assert levels == sorted(levels)
    assert levels[0] == 1 and levels[-1] == 7
    assert NVENC_PRESETS[Preset.MEDIUM] == "p4"  # both encoders' default


def test_libx264_args() -> None:
    x264 = Encoder(LIBX264)
    assert x264.video_args(Preset.SLOW, 20) == {
        "c:v": "libx264",
        "pix_fmt": "yuv420p",
        "preset": "slow",
        "crf": 20,
    }
    # a CRF with a bitrate: the bitrate is a VBV cap (maxrate, bufsize 2x)
    assert x264.video_args(Preset.MEDIUM, 23, 2000) | {} == {
        "c:v": "libx264",
        "pix_fmt": "yuv420p",
        "preset": "medium",
        "crf": 23,
        "maxrate": "2000k",
        "bufsize": "4000k",
    }
    # a bitrate alone is the target
    assert x264.video_args(Preset.MEDIUM, None, 800)["b:v"] == "800k"


def test_nvenc_args() -> None:
    nvenc = Encoder(NVENC)
    assert nvenc.video_args(Preset.VERYSLOW, 23, 2000) == {
        "c:v": "h264_nvenc",
        "pix_fmt": "yuv420p",
        "preset": "p7",
        "tune": "hq",
        "rc": "vbr",
        "cq": 23,
        "b:v": "0",
        "maxrate": "2000k",
        "bufsize": "4000k",
    }
    assert nvenc.video_args(Preset.FAST, None, 800)["b:v"] == "800k"


@pytest.mark.parametrize(
    ("codec", "input_codec", "args"),
    [
        (NVENC, "h264", {"hwaccel": "cuda"}),
        (NVENC, "hevc", {"hwaccel": "cuda"}),
        (NVENC, "prores", {}),  # NVDEC cannot: decode on the CPU
        (LIBX264, "h264", {}),
    ],
)
def test_gpu_decoding_only_with_nvenc_and_an_nvdec_codec(
    codec: str, input_codec: str, args: dict[str, str]
) -> None:
    assert Encoder(codec).input_args(input_codec) == args


def test_trial_encodes_one_frame_with_nvenc() -> None:
    argv = trial_argv()
    assert argv[0] == "ffmpeg"
    assert argv[argv.index("-c:v") + 1] == "h264_nvenc"
    assert argv[argv.index("-frames:v") + 1] == "1"
    assert argv[-3:] == ["-f", "null", "-"]
