"""FFmpeg argv per operation, built from params and synthetic probes (no FFmpeg run)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from mediajobs.catalog import params as p
from mediajobs.catalog.params import FitMode, ImageFormat, Position, Preset
from mediajobs.worker import argv
from mediajobs.worker.argv import Command, FrameLayout
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.gpu import LIBX264, NVENC, Encoder
from mediajobs.worker.probe import Stream
from tests.unit.worker.probes import MAX_PIXELS, image_probe, source, video_probe

X264 = Encoder(LIBX264)
GLOBAL = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats"]
PROGRESS = ["-progress", "pipe:1"]


def opt(cmd: Command, flag: str) -> str:
    """The value after FLAG (its last occurrence)."""
    at = len(cmd.argv) - 1 - cmd.argv[::-1].index(flag)
    return cmd.argv[at + 1]


def graph(cmd: Command) -> str:
    return opt(cmd, "-filter_complex")


def inputs(cmd: Command) -> list[str]:
    return [cmd.argv[i + 1] for i, a in enumerate(cmd.argv) if a == "-i"]


def maps(cmd: Command) -> list[str]:
    return [cmd.argv[i + 1] for i, a in enumerate(cmd.argv) if a == "-map"]


# ---------------------------------------------------------------- video


def test_reencode_streaming_is_the_reference_command_with_progress() -> None:
    cmd = argv.reencode_streaming(
        p.ReencodeStreamingParams(), source(video_probe()), "/media/out/.a.partial-1.mp4", X264
    )
    assert cmd.argv == [
        *GLOBAL, *PROGRESS, "-y",
        "-f", "mov", "-max_pixels", str(MAX_PIXELS), "-protocol_whitelist", "file",
        "-i", "file:/media/in/clip.mp4",
        "-map", "0:0", "-map", "0:1",
        "-b:a", "128k", "-bufsize", "4000k", "-c:a", "aac", "-c:v", "libx264", "-crf", "23",
        "-maxrate", "2000k", "-movflags", "+faststart", "-pix_fmt", "yuv420p",
        "-preset", "medium",
        "/media/out/.a.partial-1.mp4",
    ]  # fmt: skip
    assert cmd.duration == 2.0


def test_reencode_with_nvenc_decodes_on_the_gpu_too() -> None:
    params = p.ReencodeStreamingParams(preset=Preset.SLOW, crf=21, target_bitrate=3000)
    cmd = argv.reencode_streaming(params, source(video_probe()), "/o/a.mp4", Encoder(NVENC))
    head = cmd.argv[: cmd.argv.index("-i")]
    assert head[head.index("-hwaccel") + 1] == "cuda"
    assert (opt(cmd, "-c:v"), opt(cmd, "-preset"), opt(cmd, "-cq")) == ("h264_nvenc", "p5", "21")
    assert (opt(cmd, "-maxrate"), opt(cmd, "-bufsize")) == ("3000k", "6000k")
    assert "-crf" not in cmd.argv


def test_silent_input_maps_no_sound_and_sets_no_audio_codec() -> None:
    cmd = argv.reencode_streaming(
        p.ReencodeStreamingParams(), source(video_probe(audio=False)), "/o/a.mp4", X264
    )
    assert maps(cmd) == ["0:0"]  # the picture alone
    assert "-c:a" not in cmd.argv and "-b:a" not in cmd.argv


def test_faststart_only_where_the_container_has_a_moov_atom() -> None:
    mkv = argv.reencode_streaming(
        p.ReencodeStreamingParams(), source(video_probe()), "/o/a.mkv", X264
    )
    assert "-movflags" not in mkv.argv


@pytest.mark.parametrize(
    ("width", "height", "mode", "scale"),
    [
        (
            160,
            160,
            FitMode.FIT,
            "scale=160:160:force_divisible_by=2:force_original_aspect_ratio=decrease",
        ),
        (161, None, FitMode.FIT, "scale=160:-2"),  # odd: H.264 4:2:0 needs even sizes
        (None, 100, FitMode.FIT, "scale=-2:100"),
        (
            100,
            100,
            FitMode.FILL,
            "scale=100:100:force_divisible_by=2:force_original_aspect_ratio=increase[s0];"
            "[s0]crop=100:100",
        ),
    ],
)
def test_resize_video(width: int | None, height: int | None, mode: FitMode, scale: str) -> None:
    params = p.ResizeVideoParams(width=width, height=height, mode=mode)
    cmd = argv.resize_video(params, source(video_probe()), "/o/a.mp4", X264)
    assert scale in graph(cmd)
    assert opt(cmd, "-crf") == "23"


def test_crop_video_box_is_even_and_inside_the_displayed_picture() -> None:
    box = p.CropBox(left=10, top=20, width=101, height=51)
    cmd = argv.crop_video(p.CropVideoParams(box=box), source(video_probe()), "/o/a.mp4", X264)
    assert "crop=100:50:10:20" in graph(cmd)
    # a phone video stored 320x240 and rotated 90 degrees is displayed 240x320
    rotated = source(video_probe(rotation=90))
    tall = p.CropBox(left=0, top=0, width=240, height=320)
    argv.crop_video(p.CropVideoParams(box=tall), rotated, "/o/a.mp4", X264)
    with pytest.raises(InvalidInput, match=r"exceeds the 320x240 input"):
        argv.crop_video(p.CropVideoParams(box=tall), source(video_probe()), "/o/a.mp4", X264)


def test_compress_by_crf_or_by_bitrate() -> None:
    by_crf = argv.compress_video(p.CompressVideoParams(), source(video_probe()), "/o/a.mp4", X264)
    assert opt(by_crf, "-crf") == "28" and "-b:v" not in by_crf.argv
    params = p.CompressVideoParams(target_bitrate=500, audio_bitrate=64)
    by_rate = argv.compress_video(params, source(video_probe()), "/o/a.mp4", X264)
    assert "-crf" not in by_rate.argv
    assert (opt(by_rate, "-b:v"), opt(by_rate, "-maxrate"), opt(by_rate, "-bufsize")) == (
        "500k",
        "500k",
        "1000k",
    )
    assert opt(by_rate, "-b:a") == "64k"


def test_teaser_seeks_cuts_fades_and_narrows() -> None:
    params = p.CreateTeaserParams(start=1, duration=5, fade=True, width=160)
    cmd = argv.create_teaser(params, source(video_probe(duration=4.0)), "/o/a.mp4", X264)
    head = cmd.argv[: cmd.argv.index("-i")]
    assert head[-4:] == ["-ss", "1.000", "-t", "3.000"]  # only 3 s left after the start
    assert cmd.duration == 3.0
    g = graph(cmd)
    assert "scale=160:-2" in g
    assert "fade=d=0.5:st=0:t=in" in g and "fade=d=0.5:st=2.500:t=out" in g
    assert "afade=d=0.5:st=0:t=in" in g and "afade=d=0.5:st=2.500:t=out" in g


def test_teaser_without_fade_has_no_filters() -> None:
    cmd = argv.create_teaser(
        p.CreateTeaserParams(duration=1), source(video_probe()), "/o/a.mp4", X264
    )
    assert "-filter_complex" not in cmd.argv


def test_teaser_start_past_the_end_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="start 5 s is past the end of the 2 s input"):
        argv.create_teaser(p.CreateTeaserParams(start=5), source(video_probe()), "/o/a.mp4", X264)


def test_gif_uses_its_own_palette() -> None:
    params = p.CompileGifParams(start=0.5, duration=1, fps=12, width=200)
    cmd = argv.compile_gif(params, source(video_probe()), "/o/a.gif")
    assert graph(cmd) == (
        "[0:0]fps=12[s0];[s0]scale=200:-1:flags=lanczos[s1];[s1]split=2[s2][s3];"
        "[s2]palettegen=stats_mode=diff[s4];[s3][s4]paletteuse=dither=sierra2_4a[s5]"
    )
    assert (opt(cmd, "-f"), opt(cmd, "-loop")) == ("gif", "0")
    assert cmd.duration == 1.0


def four(paths: list[str] | None = None, **probe: object) -> list[argv.Source]:
    paths = paths or [f"/media/in/{n}.mp4" for n in "abcd"]
    return [source(video_probe(**probe), path) for path in paths]  # type: ignore[arg-type]


def test_quad_is_a_2x2_xstack_of_letterboxed_cells() -> None:
    sources = four(rate=Fraction(30000, 1001))
    cmd = argv.compile_quad(p.CompileQuadParams(width=640, height=360), sources, "/o/q.mp4", X264)
    assert inputs(cmd) == [f"file:{s.path}" for s in sources]
    g = graph(cmd)
    assert g.count("scale=320:180:force_divisible_by=2:force_original_aspect_ratio=decrease") == 4
    assert g.count("pad=320:180:(ow-iw)/2:(oh-ih)/2:color=black") == 4
    assert g.count("fps=30000/1001") == 4
    assert "xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0" in g
    assert "-c:a" not in cmd.argv  # picture only


def test_quad_pads_when_the_cells_cannot_fill_the_frame_exactly() -> None:
    cmd = argv.compile_quad(p.CompileQuadParams(width=642, height=362), four(), "/o/q.mp4", X264)
    assert "pad=642:362:(ow-iw)/2:(oh-ih)/2:color=black" in graph(cmd)


def test_quad_lasts_as_long_as_the_longest_input() -> None:
    sources = [*four()[:3], source(video_probe(duration=5.0), "/media/in/long.mp4")]
    cmd = argv.compile_quad(p.CompileQuadParams(), sources, "/o/q.mp4", X264)
    assert cmd.duration == 5.0


def test_grid_rate_is_the_fastest_input_capped_at_60() -> None:
    assert argv.grid_rate(four(rate=Fraction(24))) == 24
    assert argv.grid_rate(four(rate=Fraction(120))) == 60
    assert argv.grid_rate(four(rate=None)) == 25


def test_concat_normalises_size_rate_and_sound() -> None:
    sources = [
        source(video_probe(duration=2.0), "/media/in/a.mp4"),
        source(video_probe(640, 480, duration=3.0, audio=False), "/media/in/b.mp4"),
    ]
    params = p.CompileConcatParams(width=320, height=240, fps=24)
    cmd = argv.compile_concat(params, sources, "/o/c.mp4", X264)
    assert inputs(cmd) == [
        "file:/media/in/a.mp4", "file:/media/in/b.mp4", "anullsrc@silence1=r=48000:cl=stereo"
    ]  # fmt: skip
    lavfi = cmd.argv.index("anullsrc@silence1=r=48000:cl=stereo")
    assert cmd.argv[lavfi - 5 : lavfi - 1] == ["-f", "lavfi", "-t", "3.000"]
    g = graph(cmd)
    assert g.count("pad=320:240") == 2 and g.count("fps=24") == 2
    assert g.count("aresample=48000") == 2 and g.count("atrim=end=") == 2
    assert "concat=a=1:n=2:v=1" in g
    assert cmd.duration == 5.0


def test_concat_gives_silent_inputs_of_one_length_a_silence_each() -> None:
    silent = video_probe(duration=2.0, audio=False)
    sources = [source(silent, f"/media/in/{n}.mp4") for n in "ab"]
    params = p.CompileConcatParams()
    assert inputs(argv.compile_concat(params, sources, "/o/c.mp4", X264)) == [
        "file:/media/in/a.mp4", "file:/media/in/b.mp4"
    ]  # fmt: skip
    cmd = argv.compile_concat(params, sources, "/o/c.mp4", X264, sound=True)
    assert sorted(i for i in inputs(cmd) if i.startswith("anullsrc")) == [
        "anullsrc@silence0=r=48000:cl=stereo", "anullsrc@silence1=r=48000:cl=stereo"
    ]  # fmt: skip
    assert opt(cmd, "-c:a") == "aac"


def test_concat_of_silent_inputs_is_picture_only() -> None:
    sources = [source(video_probe(audio=False), f"/media/in/{n}.mp4") for n in "ab"]
    cmd = argv.compile_concat(p.CompileConcatParams(), sources, "/o/c.mp4", X264)
    assert "anullsrc" not in " ".join(cmd.argv)
    assert "concat=a=0:n=2:v=1" in graph(cmd)
    assert "-c:a" not in cmd.argv


# ---------------------------------------------------------------- watermarks, strip, analysis


@pytest.mark.parametrize(
    ("position", "x", "y"),
    [
        (Position.TOP_LEFT, "16", "16"),
        (Position.TOP_RIGHT, "w-text_w-16", "16"),
        (Position.BOTTOM_LEFT, "16", "h-text_h-16"),
        (Position.BOTTOM_RIGHT, "w-text_w-16", "h-text_h-16"),
        (Position.CENTER, "(w-text_w)/2", "(h-text_h)/2"),
    ],
)
def test_text_watermark_position(position: Position, x: str, y: str) -> None:
    params = p.ApplyWatermarkParams(text="hi", position=position)
    g = graph(argv.apply_watermark(params, source(video_probe()), "/o/a.mp4", X264, None))
    assert f"x={x}" in g and f"y={y}" in g


def test_text_watermark_is_literal_and_escaped_for_the_filter_graph() -> None:
    params = p.ApplyWatermarkParams(text="50%: it's [a],b;c", opacity=0.25, font_size=48)
    g = graph(argv.apply_watermark(params, source(video_probe()), "/o/a.mp4", X264, None))
    assert "expansion=none" in g
    assert "fontcolor=white@0.25" in g and "fontsize=48" in g and "borderw=3" in g
    # two levels: the option value (\ ' : =), then the graph ([ ] , ;)
    assert r"text=50%\\: it\\\'s \[a\]\,b\;c" in g


def test_image_watermark_overlays_a_faded_second_input() -> None:
    params = p.ApplyWatermarkParams(image="logos/mark.png", position=Position.TOP_RIGHT, margin=8)
    mark = source(image_probe(codec="png", format_name="png_pipe"), "/media/logos/mark.png")
    cmd = argv.apply_watermark(params, source(video_probe()), "/o/a.mp4", X264, mark)
    assert inputs(cmd) == ["file:/media/in/clip.mp4", "file:/media/logos/mark.png"]
    g = graph(cmd)
    assert "format=rgba" in g and "colorchannelmixer=aa=0.5" in g
    assert "overlay=eof_action=repeat:format=auto:x=main_w-overlay_w-8:y=8" in g


def test_watermark_on_a_still_gives_a_still() -> None:
    params = p.ApplyWatermarkParams(text="hi")
    cmd = argv.apply_watermark(params, source(image_probe(), "/m/p.jpg"), "/o/p.jpg", X264, None)
    assert (opt(cmd, "-f"), opt(cmd, "-c:v"), opt(cmd, "-frames:v")) == ("image2", "mjpeg", "1")
    assert cmd.duration is None


def test_strip_metadata_copies_streams_and_drops_every_tag() -> None:
    cmd = argv.strip_metadata(source(video_probe()), "/o/a.mp4")
    assert (opt(cmd, "-c:v"), opt(cmd, "-c:a")) == ("copy", "copy")
    assert (opt(cmd, "-map_metadata"), opt(cmd, "-map_chapters")) == ("-1", "-1")
    assert (opt(cmd, "-fflags"), opt(cmd, "-flags")) == ("+bitexact", "+bitexact")
    assert maps(cmd) == ["0:0", "0:1"]  # picture and sound; data tracks stay behind


def test_strip_metadata_keeps_every_sound_track_but_no_cover_art_or_subtitles() -> None:
    base = video_probe()
    extra = (
        Stream(index=2, codec_type="audio", codec_name="ac3"),  # a second language
        Stream(index=3, codec_type="subtitle", codec_name="mov_text"),
        Stream(index=4, codec_type="video", codec_name="mjpeg", attached_pic=True),
        Stream(index=5, codec_type="data", codec_name="bin_data"),  # e.g. a GPS track
    )
    probe = replace(base, streams=base.streams + extra)
    assert maps(argv.strip_metadata(source(probe), "/o/a.mkv")) == ["0:0", "0:1", "0:2"]


def test_strip_metadata_reencodes_a_still() -> None:
    cmd = argv.strip_metadata(source(image_probe(codec="png"), "/m/p.png"), "/o/p.png")
    assert (opt(cmd, "-c:v"), opt(cmd, "-map_metadata"), opt(cmd, "-f")) == ("png", "-1", "image2")


def test_scene_detect_scores_every_frame_and_prints_those_above_threshold() -> None:
    cmd = argv.scene_detect(p.SceneDetectParams(threshold=0.4), source(video_probe()), "/tmp/s.txt")
    assert graph(cmd) == (
        r"[0:0]select=gte(scene\,0)[s0];[s0]metadata=file=/tmp/s.txt:function=greater:"
        "key=lavfi.scene_score:mode=print:value=0.4[s1]"
    )
    assert cmd.argv[-3:] == ["-f", "null", "-"]


# ---------------------------------------------------------------- stills


@pytest.mark.parametrize(
    ("fmt", "out", "codec"),
    [
        (ImageFormat.WEBP, "/o/p.webp", "libwebp"),
        (ImageFormat.PNG, "/o/p.png", "png"),
        (ImageFormat.JPEG, "/o/p.jpg", "mjpeg"),
    ],
)
def test_convert_image(fmt: ImageFormat, out: str, codec: str) -> None:
    cmd = argv.convert_image(p.ConvertImageParams(format=fmt), source(image_probe()), out)
    assert opt(cmd, "-c:v") == codec
    assert (opt(cmd, "-frames:v"), opt(cmd, "-update"), cmd.argv[-1]) == ("1", "1", out)


def test_resize_image_does_not_round_to_even() -> None:
    params = p.ResizeImageParams(width=101)
    cmd = argv.resize_image(params, source(image_probe()), "/o/p.png")
    assert "scale=101:-1" in graph(cmd)


def test_crop_image_checks_the_box() -> None:
    box = p.CropBox(left=1, top=1, width=101, height=51)
    cmd = argv.crop_image(p.CropImageParams(box=box), source(image_probe()), "/o/p.jpg")
    assert "crop=101:51:1:1:exact=1" in graph(cmd)
    with pytest.raises(InvalidInput, match="exceeds"):
        big = p.CropBox(left=300, top=0, width=21, height=10)
        argv.crop_image(p.CropImageParams(box=big), source(image_probe()), "/o/p.jpg")


def test_thumbnail_defaults_to_a_quarter_of_the_duration() -> None:
    cmd = argv.thumbnail(p.ThumbnailGenerateParams(), source(video_probe(duration=8.0)), "/o/t.jpg")
    head = cmd.argv[: cmd.argv.index("-i")]
    assert head[head.index("-ss") + 1] == "2.000"
    assert "scale=640:-1" in graph(cmd)


def test_thumbnail_at_a_timestamp_and_of_a_still() -> None:
    at = argv.thumbnail(
        p.ThumbnailGenerateParams(timestamp=1.5, width=100), source(video_probe()), "/o/t.png"
    )
    assert opt(at, "-ss") == "1.500" and opt(at, "-c:v") == "png"
    still = argv.thumbnail(p.ThumbnailGenerateParams(), source(image_probe()), "/o/t.jpg")
    assert "-ss" not in still.argv
    with pytest.raises(InvalidInput, match="timestamp 3 s is past the end"):
        argv.thumbnail(p.ThumbnailGenerateParams(timestamp=3), source(video_probe()), "/o/t.jpg")


# ---------------------------------------------------------------- raw frames


@pytest.mark.parametrize(
    ("layout", "size"),
    [
        (FrameLayout(320, 240, "yuv420p"), 320 * 240 * 3 // 2),
        (FrameLayout(321, 241, "yuv420p"), 321 * 241 + 2 * 161 * 121),  # odd: chroma rounds up
        (FrameLayout(320, 240, "yuv444p"), 320 * 240 * 3),
        (FrameLayout(320, 240, "yuva444p"), 320 * 240 * 4),
    ],
)
def test_frame_layout_sizes(layout: FrameLayout, size: int) -> None:
    assert layout.size == size
    assert layout.luma_size == layout.width * layout.height


def test_raw_frame_pipeline_commands() -> None:
    src = source(video_probe(rate=Fraction(30000, 1001)))
    layout = FrameLayout(320, 240, "yuv420p")
    decode = argv.decode_frames(src, layout)
    assert "-progress" not in decode.argv  # stdout carries the frames
    assert (opt(decode, "-f"), opt(decode, "-pix_fmt"), decode.argv[-1]) == (
        "rawvideo",
        "yuv420p",
        "pipe:1",
    )
    assert (opt(decode, "-fps_mode"), opt(decode, "-r")) == ("cfr", "30000/1001")
    params = p.ApplySteganographicWatermarkParams(fan_id="fan", crf=20)
    encode = argv.encode_frames(src, layout, "/o/a.mp4", params)
    assert inputs(encode) == ["pipe:0", "file:/media/in/clip.mp4"]
    assert encode.argv[1 + encode.argv.index("-s")] == "320x240"
    assert (opt(encode, "-c:v"), opt(encode, "-crf"), opt(encode, "-c:a")) == (
        "libx264",
        "20",
        "copy",
    )
    assert opt(encode, "-progress") == "pipe:1"


def test_raw_frames_of_a_still_go_back_into_its_format() -> None:
    src = source(image_probe(codec="png", format_name="png_pipe", pix_fmt="rgba"), "/m/p.png")
    layout = FrameLayout(320, 240, "yuva444p")
    assert "-fps_mode" not in argv.decode_frames(src, layout).argv
    params = p.ApplySteganographicWatermarkParams(fan_id="fan")
    encode = argv.encode_frames(src, layout, "/o/p.png", params)
    assert (opt(encode, "-c:v"), inputs(encode)) == ("png", ["pipe:0"])


def test_even() -> None:
    assert [argv.even(n) for n in (1, 2, 3, 640, 641)] == [2, 2, 2, 640, 640]
