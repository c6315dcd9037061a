"""The job container: runs one media task with FFmpeg (``mediajobs worker``).

Functional core (no processes, no files): ``argv`` builds each operation's
FFmpeg command, ``formats`` picks output formats, ``gpu.choose_encoder`` the
encoder, ``analysis`` reads scene scores and probe reports, ``errors``
classifies every failure. Thin shell: ``main`` (task in, verdict out),
``operations`` (one handler per operation), ``probe`` (ffprobe), ``inputs``
and ``download`` (where inputs may come from), ``outputs`` (where outputs may
go, written atomically), ``run`` (FFmpeg with progress), ``frames`` (the raw
frame pipe of the invisible watermark, whose maths is ``stego``), ``sink`` and
``redis_sink`` (progress to Redis, best effort), ``gpu.nvenc_trial``.
"""
