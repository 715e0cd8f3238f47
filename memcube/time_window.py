"""The day, month or year a question names, as a [start, end) window on event time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from memcube.keywords import MONTHS

_MONTH_YEAR = re.compile(rf"\b({'|'.join(MONTHS)})(?:\s+of)?,?\s+(\d{{4}})\b", re.IGNORECASE)
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\s+({'|'.join(MONTHS)}),?\s+(\d{{4}})\b", re.I)
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(?:in|during|of|from)\s+(19\d\d|20\d\d)\b", re.IGNORECASE)


def time_range_in(text: str) -> tuple[datetime, datetime] | None:
    """The [start, end) span of the first real day, month or year the text names, if any.

    A date that cannot exist ("2023-13-45", "31 February 2023", year 0) is not a date: it is
    skipped, and a span that would end past year 9999 ends at ``datetime.max``.
    """
    for pattern, span in _DATE_SPANS:
        for match in pattern.finditer(text):
            try:
                return span(match)
            except (ValueError, OverflowError):
                continue
    return None


def _day_span(start: datetime) -> tuple[datetime, datetime]:
    return start, _or_max(lambda: start + timedelta(days=1))


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    return datetime(year, month, 1), _or_max(lambda: datetime(year + month // 12,
                                                              month % 12 + 1, 1))


def _year_span(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), _or_max(lambda: datetime(year + 1, 1, 1))


def _or_max(end) -> datetime:
    try:
        return end()
    except (ValueError, OverflowError):
        return datetime.max


_DATE_SPANS = (
    (_ISO_DAY, lambda m: _day_span(datetime(int(m[1]), int(m[2]), int(m[3])))),
    (_DAY_MONTH_YEAR, lambda m: _day_span(
        datetime(int(m[3]), MONTHS.index(m[2].lower()) + 1, int(m[1])))),
    (_MONTH_YEAR, lambda m: _month_span(int(m[2]), MONTHS.index(m[1].lower()) + 1)),
    (_YEAR, lambda m: _year_span(int(m[1]))),
)
