"""Domain errors raised by services and turned into messages by views and the API."""

from __future__ import annotations


class ValidationError(Exception):
    """Bad input: `errors` maps each field name to its messages."""

    def __init__(self, errors: dict[str, list]):
        super().__init__(errors)
        self.errors = errors

    def messages(self) -> dict[str, list[str]]:
        return {field: [str(m) for m in msgs] for field, msgs in self.errors.items()}
