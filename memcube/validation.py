"""What may be stored: text that encodes as UTF-8 (no NUL outside JSON), JSON of bounded size.

Every door that writes (the API, the SDK through it, the CLI, embedded ``MemOS``) reaches
storage through ``memcube``, which checks here first: a value that a reader could not later
serialize (a lone surrogate such as ``"\\ud800"``, JSON nested hundreds of levels deep, NaN)
is refused with InvalidInput before anything is written. Messages never echo the bad value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from storage.errors import InvalidInput

MAX_JSON_DEPTH = 32  # nesting levels of a metadata object (the object itself is level 1)
MAX_JSON_BYTES = 64 * 1024  # serialized metadata of one memory
MAX_JSON_KEY_CHARS = 256
USER_ID_LIMIT = 64


def check_text(value, what: str, max_chars: int | None = None, *, blank_ok: bool = True,
               nul_ok: bool = False) -> str:
    """A string that UTF-8 can encode, at most ``max_chars`` long, without NUL unless
    ``nul_ok`` (inside JSON, where it is stored escaped)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string")
    if not blank_ok and not value.strip():
        raise InvalidInput(f"{what} must not be blank")
    if max_chars is not None and len(value) > max_chars:
        raise InvalidInput(f"{what} is limited to {max_chars} characters")
    if not nul_ok and "\x00" in value:  # PostgreSQL text cannot hold NUL; refused everywhere
        raise InvalidInput(f"{what} must not contain NUL characters")
    if not _encodable(value):
        raise InvalidInput(f"{what} is not valid Unicode text (it holds a lone surrogate)")
    return value


def check_user_id(user_id) -> str:
    """A user id: 1 to USER_ID_LIMIT characters, no outer spaces, storable text."""
    if not isinstance(user_id, str) or not user_id or len(user_id) > USER_ID_LIMIT \
            or user_id != user_id.strip():
        raise InvalidInput(f"a user id must be 1 to {USER_ID_LIMIT} characters, no outer spaces")
    return check_text(user_id, "a user id")


def check_optional_text(value, what: str, max_chars: int | None = None) -> str | None:
    """``check_text`` for a value that may be None."""
    return None if value is None else check_text(value, what, max_chars)


def check_texts(values: Iterable, what: str, max_chars: int, max_count: int) -> list[str]:
    """A list of strings, each checked as ``check_text`` does."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a list of strings")
    values = list(values)
    if len(values) > max_count:
        raise InvalidInput(f"{what} holds at most {max_count} entries")
    return [check_text(value, f"each of {what}", max_chars) for value in values]


def check_json_object(value, what: str, max_depth: int = MAX_JSON_DEPTH,
                      max_bytes: int = MAX_JSON_BYTES) -> dict:
    """A JSON object with string keys, plain values, bounded nesting and serialized size."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be an object")
    _check_json_tree(value, what, max_depth)
    size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(f"{what} is {size} bytes once serialized; the limit is {max_bytes}")
    return value


def _check_json_tree(root, what: str, max_depth: int) -> None:
    """Walk the value without recursion, so no depth can exhaust the stack."""
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list) and depth > max_depth:
            raise InvalidInput(f"{what} is nested deeper than {max_depth} levels")
        if isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str):
                    raise InvalidInput(f"{what} keys must be strings")
                check_text(key, f"a key of {what}", MAX_JSON_KEY_CHARS, nul_ok=True)
                pending.append((child, depth + 1))
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node)
        elif isinstance(node, str):
            check_text(node, f"a value in {what}", nul_ok=True)
        elif isinstance(node, float) and not math.isfinite(node):
            raise InvalidInput(f"{what} must not hold NaN or infinite numbers")
        elif node is not None and not isinstance(node, bool | int | float):
            raise InvalidInput(f"{what} may hold only JSON values "
                               f"(not {type(node).__name__})")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
