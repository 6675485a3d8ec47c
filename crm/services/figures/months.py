"""Calendar months as the figures count them: the first day stands for the month."""

from __future__ import annotations

from datetime import date

# The earliest month a billing file may hold: older lines are typing mistakes (202 5-06).
EARLIEST = date(2000, 1, 1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_ending(last: date, count: int) -> list[date]:
    """`count` months up to and including `last`, the oldest first."""
    return [add_months(last, offset) for offset in range(1 - count, 1)]


def parse_month(raw: str) -> date | None:
    """The month a billing file names, or None when it names none.

    Billing systems and Excel write a month in many ways: 2025-06, 2025/6, 2025.06,
    2025年6月, 202506 (账期), or a day of it (2025-06-01, 2025/6/30, 20250630).
    """
    text = raw.strip()
    for mark in ("年", "月", "/", "."):
        text = text.replace(mark, "-")
    text = text.replace("日", "").strip("-")
    if text.isdigit() and len(text) in (6, 8):
        parts = [text[:4], text[4:6]] + ([text[6:]] if len(text) == 8 else [])
    else:
        parts = text.split("-")
        if len(parts) not in (2, 3) or len(parts[0]) != 4:
            return None
    if not all(part.isdigit() and part.isascii() for part in parts):
        return None
    numbers = [int(part) for part in parts]
    try:
        day = date(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 1)
    except ValueError:
        return None
    return day.replace(day=1)
