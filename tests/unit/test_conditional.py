"""Last-Modified and If-Modified-Since at whole seconds (``service.api.conditional``): a date
is given only once its second is over, so a change later in the same second can never be
answered 304 with the older copy (found by a newcomer: 304 after an upload in the same
second as the client's Last-Modified)."""

from __future__ import annotations

import datetime as dt
import email.utils

from starlette.requests import Request

from service.api.conditional import http_date, not_modified


def at(*parts: int, micro: int = 0) -> dt.datetime:
    return dt.datetime(*parts, microsecond=micro, tzinfo=dt.UTC)  # type: ignore[misc]


def request(**headers: str) -> Request:
    raw = [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw})


def test_a_date_is_the_end_of_the_changes_second_once_it_is_over() -> None:
    change = at(2026, 1, 2, 3, 4, 5, micro=250_000)
    assert http_date(change, now=at(2026, 1, 2, 3, 4, 5, micro=900_000)) is None
    given = http_date(change, now=at(2026, 1, 2, 3, 4, 6))
    assert given == "Fri, 02 Jan 2026 03:04:06 GMT"
    assert http_date(at(2026, 1, 2, 3, 4, 5), now=at(2026, 1, 2, 3, 4, 5)) == (
        "Fri, 02 Jan 2026 03:04:05 GMT"  # a change on the second itself
    )


def test_a_later_change_is_never_304_against_a_date_given() -> None:
    first = at(2026, 1, 2, 3, 4, 5, micro=250_000)
    date = http_date(first, now=at(2026, 1, 2, 3, 4, 7))
    assert date is not None
    unchanged = request(if_modified_since=date)
    assert not_modified(unchanged, '"a"', first)
    # any change after the date was given is later than the date
    later = at(2026, 1, 2, 3, 4, 7, micro=1)
    assert not not_modified(unchanged, '"b"', later)


def test_the_old_whole_second_comparison_would_have_failed() -> None:
    """The bug: the date of a change at .25 s was that second (floor), and a change at .75 s
    compared at whole seconds was "not newer"."""
    floor = email.utils.format_datetime(at(2026, 1, 2, 3, 4, 5), usegmt=True)
    second_change = at(2026, 1, 2, 3, 4, 5, micro=750_000)
    assert not not_modified(request(if_modified_since=floor), '"b"', second_change)


def test_if_none_match_wins() -> None:
    both = request(if_none_match='"a"', if_modified_since="Mon, 01 Jan 2001 00:00:00 GMT")
    assert not_modified(both, '"a"', at(2026, 1, 1))
    assert not not_modified(request(if_none_match='"x"'), '"a"', at(2000, 1, 1))
