"""The media library: an index on the media volume, kept by the workers (no database).

:mod:`index` (the file, its lock, atomic replacement), :mod:`diff` and
:mod:`choose` (pure: what a scan changes, which videos a compilation takes),
:mod:`scan`, :mod:`move` and :mod:`compilation` (the operations' handlers),
:mod:`handlers` (the table the worker dispatches on).
"""
