"""auto_reframe: a narrower cut (9:16 by default) that keeps the faces in frame.

:mod:`.path` holds the geometry and the smoothing (pure), :mod:`.faces` samples
frames through FFmpeg and finds faces with OpenCV's bundled Haar cascade,
:mod:`.handler` joins them into the crop FFmpeg applies.
"""
