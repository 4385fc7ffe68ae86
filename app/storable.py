"""Text a database can store. JSON may carry NUL (\\u0000) and lone surrogates (\\ud800): PostgreSQL
refuses both in text columns (and SQLite would keep what nobody can read back). Every request is
checked at the edge (app/web.py), so no such text reaches a model, on either database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON value (or a form's (name, values) pairs), keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def request_is_storable(request) -> bool:
    """The query, the form fields, the uploaded files' names and a JSON body: all storable."""
    texts = [*strings(list(request.args.lists())), *strings(list(request.form.lists()))]
    texts += [f.filename or "" for f in request.files.values()]
    if request.is_json:
        texts += strings(request.get_json(silent=True))
    return all(storable(text) for text in texts)
