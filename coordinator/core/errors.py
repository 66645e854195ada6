"""Domain errors raised by services and turned into messages by views and the API."""

from __future__ import annotations


class ValidationError(Exception):
    """Bad input: `errors` maps each field name to its messages."""

    def __init__(self, errors: dict[str, list]):
        super().__init__(errors)
        self.errors = errors

    def messages(self) -> dict[str, list[str]]:
        return {field: [str(m) for m in msgs] for field, msgs in self.errors.items()}


def raise_problems(problems: list[tuple[str, object]]) -> None:
    """Raise a ValidationError gathering (field, message) pairs, if there are any."""
    if problems:
        errors: dict[str, list] = {}
        for field, message in problems:
            errors.setdefault(field, []).append(message)
        raise ValidationError(errors)


class ConflictError(Exception):
    """Someone else saved the record since it was read (optimistic locking)."""

    def __init__(self, current_version: int):
        super().__init__(current_version)
        self.current_version = current_version


class DuplicateSuspected(Exception):
    """A likely duplicate exists: the user must confirm or open the existing record."""

    def __init__(self, candidates: list):
        super().__init__(candidates)
        self.candidates = candidates
