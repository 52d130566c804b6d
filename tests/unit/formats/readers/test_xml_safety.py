"""Safe XML intake: DTD and entity attacks, encodings, depth bombs, truncation, stream replay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.formats.readers import xml_safety
from service.formats.readers.xml_safety import (
    MAX_DEPTH,
    PROLOG_LIMIT,
    guard,
    parse_events,
)
from service.model.data import DataReadError

ROOT = '<m:GenericData xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message">'

ATTACKS = {
    "XXE external entity": (
        f'<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>{ROOT}&xxe;</m:GenericData>'
    ),
    "billion laughs": (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
        f"{ROOT}&lol4;</m:GenericData>"
    ),
    "external DTD": f'<!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd">{ROOT}</m:GenericData>',
    "parameter entity": (
        f'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">%p;]>{ROOT}</m:GenericData>'
    ),
    "DOCTYPE after comments and PIs": (
        '<!-- a comment --><?pi data?>\n  <!-- another -->\n<!DOCTYPE m [<!ENTITY a "b">]>'
        f"{ROOT}&a;</m:GenericData>"
    ),
    "lower-case doctype": f"<!doctype m>{ROOT}</m:GenericData>",
}
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 with BOM": lambda text: text.encode("utf-16"),
    "utf-16-le without BOM": lambda text: text.encode("utf-16-le"),
    "utf-16-be without BOM": lambda text: text.encode("utf-16-be"),
}


def declared(text: str, encoding: str) -> str:
    name = "UTF-16" if "16" in encoding else "UTF-8"
    return f'<?xml version="1.0" encoding="{name}"?>\n{text}'


def events(data: bytes) -> list[tuple[str, str, int]]:
    return [(event, el.tag, depth) for event, el, depth in parse_events(io.BytesIO(data))]


class TrickleStream(io.RawIOBase):
    """A stream that gives at most ``step`` bytes per read, as a slow network would."""

    def __init__(self, data: bytes, step: int = 1) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data[self._pos : self._pos + min(self._step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[self._pos : self._pos + self._step]
        self._pos += len(chunk)
        return chunk


class TestDtdRefusedBeforeParsing:
    @pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
    @pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
    def test_every_attack_in_every_encoding_is_refused(self, attack: str, encode: object) -> None:
        for text in (
            attack,
            declared(attack, next(k for k, v in ENCODINGS.items() if v is encode)),
        ):
            data = encode(text)  # type: ignore[operator]
            with pytest.raises(DataReadError, match=r"(DOCTYPE|ENTITY) declaration: refused"):
                guard(io.BytesIO(data))
            with pytest.raises(DataReadError, match=r"(DOCTYPE|ENTITY) declaration: refused"):
                events(data)

    def test_refused_even_when_the_stream_trickles_one_byte_at_a_time(self) -> None:
        data = declared(ATTACKS["XXE external entity"], "utf-8").encode()
        with pytest.raises(DataReadError, match="DOCTYPE declaration: refused"):
            guard(TrickleStream(data))  # type: ignore[arg-type]

    def test_nothing_is_parsed_before_the_refusal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_parser() -> None:
            raise AssertionError("the parser was created before the prolog was checked")

        monkeypatch.setattr(xml_safety, "hardened_parser", no_parser)
        with pytest.raises(DataReadError, match="refused"):
            events(ATTACKS["billion laughs"].encode())

    def test_a_doctype_inside_a_comment_is_only_a_comment(self) -> None:
        data = f"<!-- <!DOCTYPE m [<!ENTITY a 'b'>]> -->\n{ROOT}</m:GenericData>".encode()
        assert [e[0] for e in events(data)] == ["start", "end"]

    def test_a_bare_entity_declaration_is_refused(self) -> None:
        with pytest.raises(DataReadError, match="ENTITY declaration: refused"):
            guard(io.BytesIO(f'<!ENTITY a "b">{ROOT}</m:GenericData>'.encode()))

    def test_a_prolog_longer_than_the_limit_is_refused(self) -> None:
        data = (
            "<!--" + "x" * (PROLOG_LIMIT + 100_000) + "-->" + ROOT + "</m:GenericData>"
        ).encode()
        with pytest.raises(DataReadError, match="before the root element: refused"):
            guard(io.BytesIO(data))

    def test_the_parse_itself_refuses_a_dtd_that_got_past_the_guard(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET")
        monkeypatch.setattr(xml_safety, "guard", lambda stream, **_: stream)
        attacks = [
            f'<!DOCTYPE m [<!ENTITY x SYSTEM "{secret.as_uri()}">]>{ROOT}&x;</m:GenericData>',
            f'<!DOCTYPE m SYSTEM "{secret.as_uri()}">{ROOT}</m:GenericData>',
            ATTACKS["billion laughs"],
        ]
        for attack in attacks:
            with pytest.raises(DataReadError) as caught:
                events(attack.encode())
            assert "TOP-SECRET" not in str(caught.value)
            assert "lollollol" not in str(caught.value)


class TestEncodings:
    @pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
    def test_utf8_and_utf16_documents_are_read(self, encode: object) -> None:
        name = next(k for k, v in ENCODINGS.items() if v is encode)
        text = declared(f"{ROOT}<a>é€</a></m:GenericData>", name)
        data = encode(text)  # type: ignore[operator]
        found = [(e, tag.rpartition("}")[2], d) for e, tag, d in events(data)]
        assert found == [
            ("start", "GenericData", 1), ("start", "a", 2), ("end", "a", 2),
            ("end", "GenericData", 1),
        ]  # fmt: skip

    @pytest.mark.parametrize(
        "data",
        [
            "<a/>".encode("utf-32"),
            "<a/>".encode("utf-32-le"),
            "<a/>".encode("utf-32-be"),
            '<?xml version="1.0" encoding="IBM037"?><a/>'.encode("cp037"),
        ],
        ids=["utf-32", "utf-32-le", "utf-32-be", "ebcdic"],
    )
    def test_encodings_the_guard_cannot_read_are_refused(self, data: bytes) -> None:
        with pytest.raises(DataReadError, match=r"(UTF-32|EBCDIC): refused"):
            guard(io.BytesIO(data))

    @pytest.mark.parametrize(
        ("data", "declared_name"),
        [
            (b'<?xml version="1.0" encoding="UTF-7"?><a/>', "UTF-7"),
            (b'<?xml version="1.0" encoding="UTF-16"?><a/>', "UTF-16"),
            ('<?xml version="1.0" encoding="UTF-8"?><a/>'.encode("utf-16"), "UTF-8"),
        ],
    )
    def test_a_declared_encoding_that_does_not_fit_the_bytes_is_refused(
        self, data: bytes, declared_name: str
    ) -> None:
        with pytest.raises(DataReadError, match=f"encoding '{declared_name}'.*refused"):
            guard(io.BytesIO(data))

    def test_latin1_is_accepted(self) -> None:
        data = '<?xml version="1.0" encoding="ISO-8859-1"?><a>é</a>'.encode("latin-1")
        assert len(events(data)) == 2


class TestDepth:
    def test_nesting_past_the_bound_is_refused_with_its_line(self) -> None:
        depth = MAX_DEPTH + 1
        data = ("<a>\n" * depth + "</a>" * depth).encode()
        with pytest.raises(DataReadError, match=f"nested deeper than {MAX_DEPTH} levels") as e:
            events(data)
        assert e.value.location == f"line {MAX_DEPTH + 1}"

    def test_nesting_at_the_bound_is_read(self) -> None:
        data = ("<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH).encode()
        assert max(d for _, _, d in events(data)) == MAX_DEPTH

    def test_a_deep_bomb_is_refused(self) -> None:
        data = ("<a>" * 100_000).encode()
        with pytest.raises(DataReadError, match="nested"):
            events(data)


class TestMalformed:
    def test_truncated_xml_says_the_line_where_it_broke(self) -> None:
        data = f"{ROOT}\n<a>\n<b x='1'/>\n<b x='2".encode()
        with pytest.raises(DataReadError, match="truncated|not well-formed") as caught:
            events(data)
        assert caught.value.location == "line 4"

    def test_a_tag_mismatch_says_its_line(self) -> None:
        with pytest.raises(DataReadError, match="not well-formed XML") as caught:
            events(b"<a>\n<b>\n</a>")
        assert caught.value.location == "line 3"

    @pytest.mark.parametrize("data", [b"", b"  \n ", b"\xef\xbb\xbf"])
    def test_an_empty_document(self, data: bytes) -> None:
        with pytest.raises(DataReadError, match="empty"):
            events(data)

    def test_a_prolog_without_a_root(self) -> None:
        with pytest.raises(DataReadError, match="no root element"):
            events(b'<?xml version="1.0"?>\n<!-- nothing -->')

    def test_not_xml(self) -> None:
        with pytest.raises(DataReadError, match="not well-formed"):
            events(b"STRUCTURE,ACTION\nDF,I\n")

    def test_an_undefined_entity_is_an_error_not_an_expansion(self) -> None:
        with pytest.raises(DataReadError):
            events(f"{ROOT}&undefined;</m:GenericData>".encode())

    def test_predefined_and_character_references_are_read(self) -> None:
        data = b"<a x='&lt;&#233;&amp;'>&gt;</a>"
        el = next(el for _, el, _ in parse_events(io.BytesIO(data)))
        assert el.get("x") == "<é&"


class TestLineNumbers:
    def test_batches_carry_the_line_once_sourceline_cannot(self) -> None:
        lines = xml_safety.LAST_EXACT_LINE + 100
        data = b"<r>\n" + b"<o/>\n" * lines + b"</r>"
        found: dict[int, object] = {}
        for line, batch in xml_safety.event_batches(io.BytesIO(data)):
            for event, el in batch:
                if event == "end" and el.tag == "o":
                    found[len(found) + 2] = line or el.sourceline
        assert found == {n: n for n in range(2, lines + 2)}

    def test_utf16_lines_are_left_to_libxml2(self) -> None:
        data = ("<r>\n" + "<o/>\n" * 10 + "</r>").encode("utf-16")
        assert {line for line, _ in xml_safety.event_batches(io.BytesIO(data))} == {None}


class TestGuardedStream:
    def test_the_guarded_stream_gives_every_byte_in_order(self) -> None:
        body = "".join(f"<o n='{i}'/>" for i in range(20_000))
        data = f'<?xml version="1.0"?>\n<!-- c -->\n<r>{body}</r>'.encode()
        assert len(data) > 4 * xml_safety.CHUNK_SIZE
        assert guard(io.BytesIO(data)).read() == data
        trickled = guard(TrickleStream(data, step=7))  # type: ignore[arg-type]
        assert b"".join(iter(lambda: trickled.read(1000), b"")) == data

    def test_a_long_prolog_trickling_in_is_scanned_in_linear_time(self) -> None:
        prolog = "<!--" + "x" * 300_000 + "-->"
        data = f"{prolog}<r/>".encode()
        assert guard(TrickleStream(data, step=5)).read() == data  # type: ignore[arg-type]

    def test_a_trickling_stream_is_parsed(self) -> None:
        data = b"<r>" + b"<o/>" * 1000 + b"</r>"
        found = list(parse_events(TrickleStream(data, step=3)))  # type: ignore[arg-type]
        assert len(found) == 2002

    def test_the_parser_options(self) -> None:
        parser = xml_safety.hardened_parser()
        parser.feed(b"<r><!-- c --><?pi x?><a/></r>")
        root = parser.close()
        assert [child.tag for child in root] == ["a"]  # comments and PIs are dropped
