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
    If-None-Match, If-Modified-Since is not older than ``last_modified`` (whole seconds)."""
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
        return last_modified.replace(microsecond=0) <= client_time
    return False


def http_date(moment: dt.datetime) -> str:
    """A Last-Modified value."""
    return email.utils.format_datetime(moment, usegmt=True)
