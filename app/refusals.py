"""One shape for every refusal a service gives: the Chinese sentence the user is shown."""

from __future__ import annotations


class Refused(Exception):
    """A request the domain turns down; `message` says why, in the user's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
