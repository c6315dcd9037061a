"""Nothing the scraper says carries a cookie: results and messages are scrubbed.

Two passes: the operator's redaction (jobs/messages.py: URL credentials and queries,
``Cookie:`` headers, token-looking values) and every stored cookie value replaced
wherever it appears, in case a page echoes one back into a title or an error.
"""

from __future__ import annotations

from typing import Any

from mediajobs.jobs.messages import REDACTED, redact


class Scrubber:
    def __init__(self, secrets: list[str]) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: list[str]) -> None:
        self._secrets = sorted({*self._secrets, *secrets}, key=len, reverse=True)  # longest first

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def message(self, text: str) -> str:
        return redact(self.text(text))

    def data(self, value: Any) -> Any:  # noqa: ANN401 - any JSON value
        """VALUE (JSON) with every string, keys included, scrubbed of the secrets."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value
