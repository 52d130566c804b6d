"""Safe intake of uploaded XML: no DTD or entity declarations, no network, bounded depth."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Final, cast

from lxml import etree
from lxml.etree import _Element

from service.model.data import DataReadError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: The deepest element nesting accepted (an SDMX-ML data message needs about 8).
MAX_DEPTH: Final = 50
#: How many bytes may come before the root element (XML declaration, comments, PIs).
PROLOG_LIMIT: Final = 1 << 20
#: The size of the reads fed to the parser.
CHUNK_SIZE: Final = 1 << 15

#: libxml2 keeps an element's line in 16 bits: past this line its ``sourceline`` is not exact.
LAST_EXACT_LINE: Final = 65534

#: What a parse of an uploaded message yields: the event, the element and its depth (root = 1).
Event = tuple[str, _Element, int]
#: A batch of (event, element) pairs, and the line they come from if ``sourceline`` cannot say.
Batch = tuple[int | None, Iterator[tuple[str, _Element]]]

_UTF32_MARKS: Final = (
    b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\x00\x00\x00<", b"<\x00\x00\x00",
    b"\x00\x00<\x00", b"\x00<\x00\x00",
)  # fmt: skip
#: (byte signature, codec to scan the prolog with, length of the byte order mark)
_SIGNATURES: Final = (
    (b"\xef\xbb\xbf", "latin-1", 3),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\xfe\xff", "utf-16-be", 2),
)
_EBCDIC: Final = b"\x4c\x6f\xa7\x94"
_DECLARED = re.compile(r"""^<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_EIGHT_BIT = re.compile(
    r"^(utf-?8|(us-)?ascii|iso[-_]?8859[-_]\d{1,2}|latin-?1|(windows|cp)-?125\d)$", re.IGNORECASE
)
_SIXTEEN_BIT = re.compile(r"^(utf-?16(le|be)?|ucs-?2)$", re.IGNORECASE)


def guard(stream: BinaryIO, *, limit: int = PROLOG_LIMIT) -> BinaryIO:
    """The stream, checked before any parsing: no DTD, and an encoding the check can read.

    Reads the prolog (everything before the root element, at most ``limit`` bytes) and refuses
    a ``<!DOCTYPE``/``<!ENTITY`` declaration in it, UTF-32 and EBCDIC documents, and an XML
    declaration whose encoding is not one of the ASCII-compatible ones or UTF-16 matching
    the bytes. Returns a stream that gives the bytes read so far, then the rest.

    Raises:
        DataReadError: saying what was refused.
    """
    return _guarded(stream, limit)[0]


def _guarded(stream: BinaryIO, limit: int = PROLOG_LIMIT) -> tuple[BinaryIO, str]:
    """``guard``'s stream, and the codec the prolog was read with."""
    head = bytearray()
    next_scan = 0  # a stream that trickles is scanned again only every CHUNK_SIZE bytes
    while True:
        chunk = stream.read(CHUNK_SIZE)
        head += chunk
        if chunk and len(head) < next_scan:
            continue
        next_scan = len(head) + CHUNK_SIZE
        codec, bom = _codec(head)
        text = _decode(head[bom:], codec)
        if _root_found(text, at_end=not chunk):
            break
        if not chunk:
            raise DataReadError("the document is empty" if not text.strip() else "no root element")
        if len(head) > limit:
            raise DataReadError(f"more than {limit} bytes before the root element: refused")
    _check_declaration(text, codec)
    return io.BufferedReader(_Replay(bytes(head), stream), buffer_size=CHUNK_SIZE), codec


def hardened_parser() -> etree.XMLPullParser:
    """An lxml pull parser giving start and end events that never loads, resolves or fetches."""
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
    )


def event_batches(
    stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE, exact_lines: bool = True
) -> Iterator[Batch]:
    """The start and end events of a guarded, hardened parse, in batches.

    The fastest way through a big document, for a consumer that counts the depth itself: it
    must raise ``too_deep`` past ``MAX_DEPTH`` and call ``refuse_dtd`` on the root element
    (``parse_events`` does both). Malformed or truncated XML raises ``DataReadError`` with
    the line where the parser stopped.

    Each batch comes with a line number. It is None while the elements' own ``sourceline``
    is exact. libxml2 keeps an element's line in 16 bits, so past line ``LAST_EXACT_LINE``
    an 8-bit document is fed one line at a time and each batch gives the line its events
    come from: the line where each element's start (or end) tag closes. A consumer that
    needs no line numbers says ``exact_lines=False``: the document is then never fed line by
    line (faster), and the line given is always None.
    """
    source, codec = _guarded(stream)
    parser = hardened_parser()
    read_events = _read_events(parser)
    # (in UTF-16 a 0x0A byte is not a line end)
    counting = exact_lines and not codec.startswith("utf-16")
    line = 1
    while chunk := source.read(chunk_size):
        newlines = chunk.count(b"\n") if counting else 0
        if line + newlines > LAST_EXACT_LINE:
            yield from _line_by_line(parser, chunk, line)
        else:
            _push(parser, chunk)
            yield None, read_events()
        line += newlines
    _push(parser, b"")
    yield (line if line > LAST_EXACT_LINE else None), read_events()


def _line_by_line(parser: etree.XMLPullParser, chunk: bytes, line: int) -> Iterator[Batch]:
    read_events = _read_events(parser)
    feed = parser.feed
    try:
        for piece in chunk.splitlines(keepends=True):
            feed(piece)
            yield line, read_events()
            line += piece.endswith(b"\n")
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, at_end=False) from None


def _read_events(parser: etree.XMLPullParser) -> Callable[[], Iterator[tuple[str, _Element]]]:
    return cast("Callable[[], Iterator[tuple[str, _Element]]]", parser.read_events)


def parse_events(
    stream: BinaryIO, *, max_depth: int = MAX_DEPTH, chunk_size: int = CHUNK_SIZE
) -> Iterator[Event]:
    """Every start and end event of a guarded, hardened parse of an uploaded document.

    Consumers should delete elements they are done with (their preceding siblings included)
    to keep memory flat. Malformed or truncated XML, a DTD and elements nested deeper than
    ``max_depth`` raise ``DataReadError`` with the line where the problem is.
    """
    depth = 0
    for _, batch in event_batches(stream, chunk_size=chunk_size):
        for event, el in batch:
            if event == "end":
                yield event, el, depth
                depth -= 1
                continue
            depth += 1
            if depth > max_depth:
                raise too_deep(el, max_depth)
            if depth == 1:
                refuse_dtd(el)
            yield event, el, depth


def too_deep(el: _Element, max_depth: int = MAX_DEPTH) -> DataReadError:
    """The error for an element nested deeper than ``max_depth``."""
    return DataReadError(
        f"elements nested deeper than {max_depth} levels: refused", f"line {el.sourceline}"
    )


def refuse_dtd(root: _Element) -> None:
    """Raises if the parsed document has a DTD (a second line of defence behind ``guard``)."""
    docinfo = root.getroottree().docinfo
    dtds = (docinfo.internalDTD, docinfo.externalDTD)
    if getattr(docinfo, "doctype", "") or any(dtd is not None for dtd in dtds):
        raise DataReadError("the document has a DOCTYPE declaration: refused", "line 1")


def _codec(head: bytearray) -> tuple[str, int]:
    if head.startswith(_UTF32_MARKS):
        raise DataReadError("the document is in UTF-32: refused (use UTF-8 or UTF-16)")
    if head.startswith(_EBCDIC):
        raise DataReadError("the document is in EBCDIC: refused (use UTF-8 or UTF-16)")
    for signature, codec, bom in _SIGNATURES:
        if head.startswith(signature):
            return codec, bom
    if b"\x00" in head[:4]:  # no NUL in 8-bit XML: UTF-16 without a byte order mark
        return ("utf-16-be" if head[0] == 0 else "utf-16-le"), 0
    return "latin-1", 0  # ASCII-compatible: markup bytes read the same in any such encoding


def _decode(data: bytearray, codec: str) -> str:
    if codec.startswith("utf-16"):
        data = data[: len(data) - len(data) % 2]
    return data.decode(codec, errors="replace")


def _root_found(text: str, *, at_end: bool) -> bool:
    """True once the prolog is complete; raises on a markup declaration (DOCTYPE, ENTITY)."""
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return False
        if i + 4 > n and not at_end:
            return False
        if text.startswith("<?", i) or text.startswith("<!--", i):
            closing = "?>" if text[i + 1] == "?" else "-->"
            end = text.find(closing, i + 2)
            if end < 0:
                return at_end
            i = end + len(closing)
        elif text.startswith("<!", i):
            if i + 9 > n and not at_end:
                return False
            word = text[i + 2 : i + 9].upper()
            what = next((w for w in ("DOCTYPE", "ENTITY") if word.startswith(w)), "markup")
            raise DataReadError(f"the document has a {what} declaration: refused")
        else:
            return True  # the root element, or not XML at all (the parser will say so)


def _check_declaration(text: str, codec: str) -> None:
    match = _DECLARED.match(text)
    if match is None:
        return
    declared = match[1].strip()
    accepted = _SIXTEEN_BIT if codec.startswith("utf-16") else _EIGHT_BIT
    if not accepted.match(declared):
        family = "UTF-16" if codec.startswith("utf-16") else "8-bit"
        raise DataReadError(
            f"the XML declaration says encoding {declared!r} in a {family} document: refused"
        )


def _push(parser: etree.XMLPullParser, chunk: bytes) -> None:
    try:
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, at_end=not chunk) from None


def _syntax_error(exc: etree.XMLSyntaxError, *, at_end: bool) -> DataReadError:
    line = exc.position[0] if exc.position else None
    return DataReadError(_syntax_problem(exc, at_end), f"line {line}" if line else None)


def _syntax_problem(exc: etree.XMLSyntaxError, at_end: bool) -> str:
    text = str(exc.msg)
    if "Excessive depth" in text:
        return "elements nested too deep: refused"
    if at_end:
        return f"the document ends before it is complete (truncated?): {text}"
    if "Entity" in text or "entity" in text:
        return f"an entity reference the reader refuses to resolve: {text}"
    return f"not well-formed XML: {text}"


class _Replay(io.RawIOBase):
    """A raw stream giving ``head`` first, then what ``rest`` reads."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(target), len(self._head))
            target[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(target))
        target[: len(data)] = data
        return len(data)
