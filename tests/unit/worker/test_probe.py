"""ffprobe JSON → Probe: display size, still or video, rates, durations."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from mediajobs.worker.analysis import parse_scenes, probe_report, stream_choice
from mediajobs.worker.containers import JPEG, MOV, PNG
from mediajobs.worker.probe import parse_probe, probe_argv


def doc(
    *streams: dict[str, Any], fmt: str = "mov,mp4,m4a,3gp,3g2,mj2", **extra: Any
) -> dict[str, Any]:
    container = {"format_name": fmt, "duration": "2.000", "size": "1000"}
    return {
        "format": container | extra.get("format", {}),
        "streams": list(streams),
        "frames": extra.get("frames", []),
    }


VIDEO = {
    "index": 0,
    "codec_type": "video",
    "codec_name": "h264",
    "width": 1920,
    "height": 1080,
    "pix_fmt": "yuv420p",
    "avg_frame_rate": "30000/1001",
    "r_frame_rate": "30/1",
    "duration": "2.0",
}
AUDIO = {
    "index": 1,
    "codec_type": "audio",
    "codec_name": "aac",
    "sample_rate": "48000",
    "channels": 2,
}


def test_video_with_sound() -> None:
    probe = parse_probe(doc(VIDEO, AUDIO))
    assert probe.video is not None and probe.audio is not None
    assert (probe.video.display_width, probe.video.display_height) == (1920, 1080)
    assert probe.video.frame_rate == Fraction(30000, 1001)
    assert (probe.audio.sample_rate, probe.audio.channels) == (48000, 2)
    assert not probe.is_image
    assert probe.media_duration == 2.0


def test_display_matrix_rotation_swaps_the_displayed_size() -> None:
    rotated = VIDEO | {"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}
    video = parse_probe(doc(rotated)).video
    assert video is not None
    assert (video.rotation, video.display_width, video.display_height) == (270, 1080, 1920)


def test_jpeg_exif_orientation_comes_from_the_first_frame() -> None:
    jpeg = {"index": 0, "codec_type": "video", "codec_name": "mjpeg", "width": 320, "height": 240}
    frames = [{"stream_index": 0, "side_data_list": [{"rotation": -90}]}]
    probe = parse_probe(doc(jpeg, fmt="jpeg_pipe", frames=frames))
    assert probe.is_image
    assert probe.video is not None
    assert (probe.video.display_width, probe.video.display_height) == (240, 320)


def test_stills_and_not_stills() -> None:
    still = {"index": 0, "codec_type": "video", "codec_name": "png", "width": 8, "height": 8}
    for fmt in ("png_pipe", "image2", "webp_pipe", "jpeg_pipe"):
        assert parse_probe(doc(still, fmt=fmt)).is_image
    assert not parse_probe(doc(still, fmt="gif")).is_image  # may be animated
    assert not parse_probe(doc(AUDIO, fmt="png_pipe")).is_image  # no picture at all


def test_cover_art_is_not_the_picture() -> None:
    cover = VIDEO | {"index": 2, "codec_name": "mjpeg", "disposition": {"attached_pic": 1}}
    assert parse_probe(doc(AUDIO, cover)).video is None


def test_unknown_values_are_none() -> None:
    odd = VIDEO | {"avg_frame_rate": "0/0", "r_frame_rate": "0/0", "duration": "N/A"}
    probe = parse_probe({"format": {"format_name": "matroska,webm"}, "streams": [odd]})
    assert probe.video is not None
    assert (probe.video.frame_rate, probe.video.duration, probe.duration) == (None, None, None)
    assert probe.media_duration is None


def test_duration_falls_back_to_the_longest_stream() -> None:
    probe = parse_probe(
        {
            "format": {"format_name": "matroska,webm"},
            "streams": [VIDEO, AUDIO | {"duration": "3.5"}],
        }
    )
    assert probe.media_duration == 3.5


def test_probe_of_a_still_reads_one_packet_of_frames() -> None:
    args = probe_argv("/m/a.jpg", JPEG, 1000)
    assert args[0] == "ffprobe" and args[-1] == "file:/m/a.jpg"
    assert args[args.index("-read_intervals") + 1] == "%+#1"


def test_probe_of_a_video_decodes_no_frame() -> None:
    assert "-show_frames" not in probe_argv("/m/a.mp4", MOV, 1000)


def test_probe_opens_the_sniffed_demuxer_on_plain_files_with_a_pixel_ceiling() -> None:
    args = probe_argv("/m/%03d.png", PNG, 1234)
    opened = args[args.index("-f") : -1]
    assert opened == ["-f", "png_pipe", "-protocol_whitelist", "file", "-max_pixels", "1234"]
    assert args[-1] == "file:/m/%03d.png"


def test_probe_report_for_validate() -> None:
    report = probe_report(parse_probe(doc(VIDEO, AUDIO, format={"bit_rate": "4000"})))
    assert report == {
        "format": "mov,mp4,m4a,3gp,3g2,mj2",
        "kind": "video",
        "duration": 2.0,
        "size": 1000,
        "bitRate": 4000,
        "streams": [
            {
                "index": 0,
                "type": "video",
                "codec": "h264",
                "width": 1920,
                "height": 1080,
                "pixFmt": "yuv420p",
                "frameRate": 29.97,
                "duration": 2.0,
            },
            {"index": 1, "type": "audio", "codec": "aac", "sampleRate": 48000, "channels": 2},
        ],
    }


def test_parse_scenes() -> None:
    text = (
        "frame:0    pts:0       pts_time:0\n"
        "lavfi.scene_score=0.000000\n"
        "frame:37   pts:37      pts_time:1.48\n"
        "lavfi.scene_score=0.912345\n"
        "frame:80   pts:80      pts_time:N/A\n"
        "lavfi.scene_score=0.5\n"
        "frame:90   pts:90      pts_time:3.6\n"
        "lavfi.scene_score=nan\n"
    )
    assert [(s.time, s.score) for s in parse_scenes(text)] == [(0.0, 0.0), (1.48, 0.9123)]
    assert parse_scenes("") == []


def test_stream_choice_lists_what_each_input_kept_and_dropped() -> None:
    tracks = parse_probe(
        doc(
            VIDEO,
            AUDIO,
            AUDIO | {"index": 2},
            {"index": 3, "codec_type": "subtitle", "codec_name": "mov_text"},
        )
    )
    cover = parse_probe(
        doc(VIDEO, VIDEO | {"index": 1, "codec_name": "mjpeg", "disposition": {"attached_pic": 1}})
    )
    assert stream_choice([(tracks, {0, 1}), (cover, {0})]) == {
        "kept": ["1:0 video h264", "1:1 audio aac", "2:0 video h264"],
        "dropped": ["1:2 audio aac", "1:3 subtitle mov_text", "2:1 cover art mjpeg"],
    }
