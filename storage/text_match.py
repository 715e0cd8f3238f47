"""SQL conditions on text columns shared by the stores."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_


def contains_any(column, texts: Sequence[str]) -> ColumnElement[bool]:
    """True where ``column`` contains one of ``texts`` literally (``%`` and ``_`` escaped)."""
    return or_(*(column.contains(text, autoescape=True) for text in texts))
