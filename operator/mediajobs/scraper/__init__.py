"""The scraper job container: scrape and publish on a creator's platform (``mediajobs scrape``).

Functional core (plain data in, plain data out): ``extract`` (JSON-LD, OpenGraph, CSS
selectors, JSON fields), ``responses`` (login wall, 429 and Retry-After, errors),
``cookies`` (the session's cookies: checked, matched to URLs), ``urls`` (the config's
templates), ``scrub`` (no cookie in any output), ``retry`` (a 429 waited for within
the attempt). Thin shell: ``main`` (task in, verdict out), ``operations`` (the three
operations), the adapters behind ``adapter.Adapter``: ``http_adapter`` (httpx) and
``browser`` (Debian's Chromium through Playwright), and ``guard`` (where they may
connect). The platform config is :mod:`mediajobs.api.platform`.
"""
