"""A MediaJob's lifecycle as plain data: what the operator tracks, what it does next,
and the status each step writes.

``records`` turns API objects into the view's records, ``plan`` picks one
MediaJob's next step, ``statuses`` builds the status patch and Event of each
transition. Pure functions, the clock passed in: no I/O, no asyncio, no kopf, no
API client (an import-linter contract in pyproject.toml holds this).
"""
