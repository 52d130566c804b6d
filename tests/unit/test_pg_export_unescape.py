"""``pg_export.unescaped`` reads COPY's text format back: a backslash escapes the character
after it, and when every backslash begins an escaped line break it takes a shortcut."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.usecases import pg_export
from service.usecases.pg_export import unescaped

#: What PostgreSQL's COPY TO writes in text format for each character it escapes
#: (``CopyAttributeOutText``): the backslash itself, and the control characters that have a
#: letter; the default delimiter (tab) is among them.
COPY_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}


def copy_text(value: str) -> bytes:
    """``value`` as a column of COPY's text format (a reference escaper, written apart from
    the code under test)."""
    return "".join(COPY_ESCAPES.get(c, c) for c in value).encode()


def copy_rows(values: list[str]) -> bytes:
    """One row per value, each ended by the (unescaped) line break that ends a COPY row."""
    return b"".join(copy_text(v) + b"\n" for v in values)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        (b"", b""),
        (b"plain <Obs/> text\n", b"plain <Obs/> text\n"),  # no backslash: as is
        ("Thái, 中文\n".encode(), "Thái, 中文\n".encode()),
        # only escaped line breaks (the shortcut): each becomes one
        (b"<Series>\\n<Obs/>\\n</Series>\n", b"<Series>\n<Obs/>\n</Series>\n"),
        (b"\\n\\n\\n", b"\n\n\n"),
        # an escaped backslash before the letter n: a backslash and the letter, no line break
        (b"a\\\\nb\n", b"a\\nb\n"),
        (b"a\\\\nb\\n", b"a\\nb\n"),  # and alongside a real escaped line break
        (b"\\\\n\\n", b"\\n\n"),
        (b"tab\\there\n", b"tab\there\n"),
        (b"cr\\rhere\n", b"cr\rhere\n"),
        (b"\\b\\f\\v", b"\b\f\v"),
        # an escaped backslash, then an escaped line break: a backslash and a line break
        (b"\\\\\\n", b"\\\n"),
        (b"\\\\\\\\", b"\\\\"),  # two escaped backslashes: two backslashes
        (b"end\\\\", b"end\\"),
        ("é\\\\中\\n".encode(), "é\\中\n".encode()),
    ],
)
def test_unescaped(written: bytes, meant: bytes) -> None:
    assert unescaped(written) == meant


def test_text_without_a_backslash_is_returned_as_is() -> None:
    written = b'<Obs TIME_PERIOD="2015"/>\n' * 3
    assert unescaped(written) is written


@pytest.mark.parametrize(
    "value",
    [
        "a\\nb",  # a backslash and the letter n, not a line break
        "\\n",
        "\\\n",  # a backslash and a line break
        "\\\\n\n\\",
        "line\nbreak",  # the shortcut
        "C:\\temp\\new\tfile\r\n",
    ],
)
def test_the_reference_escaper_round_trips(value: str) -> None:
    assert unescaped(copy_text(value)) == value.encode()
    assert unescaped(copy_rows([value, value])) == (value + "\n" + value + "\n").encode()


#: Text rich in what COPY escapes, and in what looks like an escape once escaped, mixed with
#: any other character (control characters and non-ASCII too).
_TRICKY = st.lists(
    st.one_of(
        st.sampled_from(["\\", "n", "\n", "\r", "\t", "\b", "\f", "\v", "r", "t", "\\n"]),
        st.characters(codec="utf-8"),
    )
).map("".join)


@given(values=st.lists(st.one_of(st.text(), _TRICKY), max_size=5))
def test_any_text_escaped_as_copy_does_comes_back(values: list[str]) -> None:
    assert unescaped(copy_rows(values)) == "".join(v + "\n" for v in values).encode()


@given(value=st.one_of(st.text(), _TRICKY))
def test_one_column_escaped_as_copy_does_comes_back(value: str) -> None:
    assert unescaped(copy_text(value)) == value.encode()


# -- binary COPY rows ---------------------------------------------------------------------------


def _copy_binary(rows: list[bytes], per_message: int, header_alone: bool) -> list[memoryview]:
    """``rows`` as PostgreSQL's binary COPY of one text column sends them: the header, each row
    (field count 1, length, bytes), the end (-1); ``per_message`` rows a message."""
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (4).to_bytes(4, "big") + b"ext!"
    encoded = [(1).to_bytes(2, "big") + len(r).to_bytes(4, "big", signed=True) + r for r in rows]
    messages = [b"".join(encoded[n : n + per_message]) for n in range(0, len(encoded), per_message)]
    if header_alone or not messages:
        messages.insert(0, header)
    else:
        messages[0] = header + messages[0]
    messages.append((-1).to_bytes(2, "big", signed=True))
    return [memoryview(m) for m in messages]


@pytest.mark.parametrize("per_message", [1, 2, 5])
@pytest.mark.parametrize("header_alone", [False, True])
def test_binary_rows_come_back_whole_and_every_message_is_read(
    per_message: int, header_alone: bool
) -> None:
    rows = [b"<Series/>", b"", "Thái 中文 \\n \n".encode(), b"x" * 70_000, b"last"]
    messages = _copy_binary(rows, per_message, header_alone)
    read: list[int] = []

    def reading() -> Iterator[memoryview]:
        for n, message in enumerate(messages):
            read.append(n)
            yield message

    assert [bytes(r) for r in pg_export._binary_rows(reading())] == rows
    assert read == list(range(len(messages)))  # the end's message too


def test_no_rows() -> None:
    assert list(pg_export._binary_rows(_copy_binary([], 1, False))) == []
