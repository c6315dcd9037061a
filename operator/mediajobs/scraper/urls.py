"""URL and text templates of the platform config: ``{profile}``, ``{postId}``...

Only named placeholders are replaced (no attribute access, no format specs); in a URL
each value is percent-encoded whole, so a post id cannot add a path segment or a query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urljoin

from mediajobs.worker.download import check_url
from mediajobs.worker.errors import InvalidInput

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(template: str, values: Mapping[str, str], *, in_url: bool) -> str:
    """TEMPLATE with its placeholders replaced by VALUES."""

    def one(found: re.Match[str]) -> str:
        name = found[1]
        if name not in values:
            raise InvalidInput(f"platform config: {{{name}}} has no value for this job")
        return quote(values[name], safe="") if in_url else values[name]

    return _PLACEHOLDER.sub(one, template)


def page_url(base_url: str, template: str, values: Mapping[str, str]) -> str:
    """The http(s) URL TEMPLATE names, joined to BASE_URL."""
    url = urljoin(base_url, render(template, values, in_url=True))
    check_url(url)
    return url
