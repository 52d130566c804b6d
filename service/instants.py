"""Instants in UTC, kept within what Python can represent (years 1 to 9999)."""

from __future__ import annotations

import datetime as dt
from typing import Final

#: The first and the last instant Python can represent (UTC).
EARLIEST: Final = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST: Final = dt.datetime.max.replace(tzinfo=dt.UTC)


def in_utc(moment: dt.datetime) -> dt.datetime:
    """An instant in UTC (naive: taken as UTC), clamped to :data:`EARLIEST` and
    :data:`LATEST` when its offset moves it out of the representable years (a client's
    ``0001-01-01T00:00:00+14:00``): nothing is recorded beyond them."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        offset = moment.utcoffset()
        return EARLIEST if offset is not None and offset > dt.timedelta() else LATEST
