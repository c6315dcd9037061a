"""Highlights without a model: windows scored by FFmpeg's own measurements, then cut or joined.

:mod:`.windows` chooses (pure), :mod:`.measure` runs the analysis pass,
:mod:`.render` builds the cut and join commands, :mod:`.handlers` glues them
into scene_extract, highlight_generate, clip_generate and digest_generate.
"""
