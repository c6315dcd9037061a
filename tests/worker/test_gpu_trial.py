"""The NVENC trial encode, for real: it must tell a machine without a usable GPU apart."""

from __future__ import annotations

from pathlib import Path

from mediajobs.worker.gpu import nvenc_trial


def test_trial_matches_the_machine() -> None:
    trial = nvenc_trial()
    if Path("/dev/nvidia0").exists():
        assert trial.ok, trial.reason
    else:
        # Debian's FFmpeg lists h264_nvenc here and only fails when opening it
        assert not trial.ok
        assert trial.reason and "\n" not in trial.reason
    assert nvenc_trial() is trial  # once per process
