"""Conditional requests (RFC 9110 section 13): whether the client's copy is still current."""

from __future__ import annotations

import datetime as dt
import email.utils

from fastapi import Request


def _opaque(tag: str) -> str:
    """An entity tag without its weakness flag: If-None-Match compares tags weakly."""
    return tag.strip().removeprefix("W/")


def not_modified(request: Request, etag: str, last_modified: dt.datetime | None) -> bool:
    """Whether to answer 304: If-None-Match lists ``etag`` (or ``*``), or, without
    If-None-Match, If-Modified-Since is not older than ``last_modified`` (to the microsecond:
    see :func:`http_date` for why that is enough)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {_opaque(t) for t in if_none_match.split(",")}
        return "*" in tags or _opaque(etag) in tags
    since = request.headers.get("if-modified-since")
    if since and last_modified is not None:
        try:
            client_time = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if client_time.tzinfo is None:  # "-0000": UTC, RFC 5322
            client_time = client_time.replace(tzinfo=dt.UTC)
        return last_modified <= client_time
    return False


def http_date(moment: dt.datetime, now: dt.datetime | None = None) -> str | None:
    """The Last-Modified value of a change at ``moment``: the end of its second (HTTP dates
    count whole seconds), once that second is over; None before it is.

    A date given while its second still runs would also stand for a change later in that
    second, and a client that sent it back would be told 304 with the older copy (RFC 9110,
    8.8.2.2: such a date is a weak validator). Given once the second is over, every later
    change is later than the date; meanwhile the ETag validates."""
    whole = moment.replace(microsecond=0)
    end = whole if whole == moment else whole + dt.timedelta(seconds=1)
    if end > (now or dt.datetime.now(dt.UTC)):
        return None
    return email.utils.format_datetime(end, usegmt=True)
