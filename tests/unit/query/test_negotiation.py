"""Content negotiation: Accept with q-values and versions, the format parameter, languages."""

from __future__ import annotations

import re

import pytest

from service.errors import NotAcceptable
from service.query.negotiation import (
    STRUCTURE_MEDIA_TYPES,
    STRUCTURE_OFFERED,
    STRUCTURE_SDMX_JSON_1_0,
    STRUCTURE_SDMX_JSON_2_0,
    STRUCTURE_SDMX_ML_2_1,
    STRUCTURE_SDMX_ML_3_0,
    MediaType,
    negotiate,
    negotiate_error,
    negotiate_language,
)
from service.query.structure import ApiVersion

V1, V2 = ApiVersion.V1, ApiVersion.V2
ML21, ML30 = STRUCTURE_SDMX_ML_2_1, STRUCTURE_SDMX_ML_3_0
JSON10, JSON20 = STRUCTURE_SDMX_JSON_1_0, STRUCTURE_SDMX_JSON_2_0
ML, JSON = "application/vnd.sdmx.structure+xml", "application/vnd.sdmx.structure+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_canonical_strings() -> None:
    assert STRUCTURE_OFFERED == (
        "application/vnd.sdmx.structure+xml;version=2.1",
        "application/vnd.sdmx.structure+xml;version=3.0.0",
        "application/vnd.sdmx.structure+json;version=1.0.0",
        "application/vnd.sdmx.structure+json;version=2.0.0",
    )
    assert [t.canonical for t in STRUCTURE_MEDIA_TYPES] == list(STRUCTURE_OFFERED)


class TestAccept:
    @pytest.mark.parametrize(
        ("accept", "for_v1", "for_v2"),
        [
            # Defaults.
            (None, ML21, JSON20),
            ("", ML21, JSON20),
            ("*/*", ML21, JSON20),
            ("application/*", ML21, JSON20),
            (BROWSER, ML21, ML30),
            # Aliases: the API's flavour of SDMX-ML or SDMX-JSON.
            ("application/xml", ML21, ML30),
            ("text/xml", ML21, ML30),
            ("application/json", JSON10, JSON20),
            ("application/xml; charset=utf-8", ML21, ML30),
            # A family without version: the API's version of it.
            (ML, ML21, ML30),
            (JSON, JSON10, JSON20),
            # Exact versions, whatever the API; 3.0 is 3.0.0 and 2.1.0 is 2.1.
            (ML21, ML21, ML21),
            (ML30, ML30, ML30),
            (JSON10, JSON10, JSON10),
            (JSON20, JSON20, JSON20),
            (f"{ML};version=3.0", ML30, ML30),
            (f"{ML};version=2.1.0", ML21, ML21),
            (f'{ML}; version="2.1"; charset=UTF-8', ML21, ML21),
            ("Application/VND.SDMX.Structure+XML;Version=3.0.0", ML30, ML30),
            # Semantic-version wildcards in the version parameter: the newest that fits.
            (f"{JSON};version=1+.0.0", JSON20, JSON20),
            (f"{JSON};version=1.0.0+", JSON10, JSON10),
            (f"{ML};version=3.0.0+", ML30, ML30),
            (f"{JSON};version=*", JSON10, JSON20),  # any version: the API's
            (f"{JSON};version=~", JSON20, JSON20),
        ],
    )
    def test_choice(self, accept: str | None, for_v1: str, for_v2: str) -> None:
        assert negotiate(accept, None, V1, STRUCTURE_OFFERED) == for_v1
        assert negotiate(accept, None, V2, STRUCTURE_OFFERED) == for_v2

    @pytest.mark.parametrize(
        ("accept", "api", "expected"),
        [
            # The highest q wins, wherever it is.
            (f"{ML21};q=0.5, {JSON20};q=0.8", V1, JSON20),
            (f"{JSON20};q=0.1, application/xml;q=0.2", V2, ML30),
            # Equal q: the client's order.
            (f"{JSON10}, {ML21}", V1, JSON10),
            (f"{ML21}, {JSON10}", V1, ML21),
            # Equal q, equal range: our order (the API default first).
            ("application/*;q=0.9", V2, JSON20),
            # The most specific range sets an offer's q (RFC 9110): q=0 excludes it even under */*.
            (f"*/*, {ML21};q=0", V1, JSON10),
            (f"*/*, {JSON20};q=0", V2, ML30),
            (f"*/*;q=0.1, {ML30}", V1, ML30),
            (f"{JSON};q=0, */*", V2, ML30),
            (f"{JSON20};q=0.9, */*", V2, ML30),
            # More specific beats less specific at equal q.
            ("*/*, application/json", V1, JSON10),
            # Malformed entries are skipped.
            (f"{JSON20};q=abc, {ML30}", V2, ML30),
            (f"{JSON20};q=2, {ML30}", V2, ML30),
            (f"nonsense, {ML30}", V2, ML30),
            (f"{ML};version=1..0, {JSON20}", V2, JSON20),
            # Only malformed entries: as if there were no Accept.
            ("nonsense", V1, ML21),
        ],
    )
    def test_weights(self, accept: str, api: ApiVersion, expected: str) -> None:
        assert negotiate(accept, None, api, STRUCTURE_OFFERED) == expected

    @pytest.mark.parametrize(
        "accept",
        [
            "text/csv",
            "text/html",
            "application/vnd.sdmx.data+csv;version=2.0.0",
            f"{ML};version=3.1.0",
            f"{JSON};version=2.1.0",
            f"{JSON};version=3+.0.0",
            "*/*;q=0",
            f"{ML};q=0, {JSON};q=0",
            "application/*;q=0, text/*",
        ],
    )
    def test_not_acceptable(self, accept: str) -> None:
        with pytest.raises(NotAcceptable, match=re.escape(f"'{accept}'")) as err:
            negotiate(accept, None, V1, STRUCTURE_OFFERED)
        for offered in STRUCTURE_OFFERED:
            assert offered in err.value.detail

    def test_offered_subset(self) -> None:
        assert negotiate(ML, None, V2, [ML21, JSON10]) == ML21
        assert negotiate(None, None, V2, [ML21, JSON10]) == ML21
        assert negotiate("application/json", None, V1, [JSON20]) == JSON20
        with pytest.raises(NotAcceptable):
            negotiate(JSON20, None, V2, [ML21])

    def test_offered_order_does_not_change_the_default(self) -> None:
        assert negotiate("*/*", None, V2, list(reversed(STRUCTURE_OFFERED))) == JSON20
        assert negotiate("*/*", None, V1, list(reversed(STRUCTURE_OFFERED))) == ML21

    def test_nothing_offered(self) -> None:
        with pytest.raises(NotAcceptable):
            negotiate(None, None, V1, [])


class TestFormatParameter:
    @pytest.mark.parametrize(
        ("fmt", "fmt_version", "api", "expected"),
        [
            ("structure", None, V1, ML21),
            ("structure", None, V2, ML30),
            ("structure", "2.1", V2, ML21),
            ("structure", "3.0", V1, ML30),
            ("sdmx-ml", None, V2, ML30),
            ("SDMX-ML", None, V1, ML21),
            ("xml", "3.0.0", V1, ML30),
            ("jsonstructure", None, V1, JSON10),
            ("jsonstructure", "2.0.0", V1, JSON20),
            ("sdmx-json", None, V2, JSON20),
            ("json", "1.0.0", V2, JSON10),
            ("json", "1+.0.0", V1, JSON20),
            # A '+' in a query string arrives as a space.
            ("json", "1.0.0 ", V2, JSON10),
            ("sdmx-json", "", V1, JSON10),
            # Full media types.
            (JSON20, None, V1, JSON20),
            ("application/vnd.sdmx.structure json;version=2.0.0", None, V1, JSON20),
            ("application/xml", None, V2, ML30),
            (f"{ML};version=2.1", "3.0.0", V2, ML21),
        ],
    )
    def test_choice(
        self, fmt: str, fmt_version: str | None, api: ApiVersion, expected: str
    ) -> None:
        got = negotiate(JSON20, fmt, api, STRUCTURE_OFFERED, fmt_version=fmt_version)
        assert got == expected

    def test_overrides_accept(self) -> None:
        assert negotiate(f"{JSON20}, {JSON10}", "structure", V2, STRUCTURE_OFFERED) == ML30
        assert negotiate("text/csv", "sdmx-json", V1, STRUCTURE_OFFERED) == JSON10

    def test_format_version_needs_format(self) -> None:
        assert negotiate(None, None, V1, STRUCTURE_OFFERED, fmt_version="3.0.0") == ML21

    @pytest.mark.parametrize("fmt", ["csv", "sdmx-csv", "genericdata", "structure json", "xlsx"])
    def test_unknown_format(self, fmt: str) -> None:
        with pytest.raises(NotAcceptable, match=re.escape(f"'{fmt}'")) as err:
            negotiate(None, fmt, V1, STRUCTURE_OFFERED)
        assert "jsonstructure" in err.value.detail

    @pytest.mark.parametrize(
        ("fmt", "fmt_version"),
        [
            ("structure", "9.9"),
            ("json", "2.1.0"),
            ("text/csv", None),
            (f"{ML};version=3.1.0", None),
        ],
    )
    def test_unmatched_format(self, fmt: str, fmt_version: str | None) -> None:
        with pytest.raises(NotAcceptable, match=re.escape(f"'{fmt}'")) as err:
            negotiate(None, fmt, V2, STRUCTURE_OFFERED, fmt_version=fmt_version)
        assert fmt_version is None or f"'{fmt_version}'" in err.value.detail
        assert ML21 in err.value.detail


class TestErrorMediaType:
    @pytest.mark.parametrize(
        ("accept", "fmt", "api", "expected"),
        [
            (JSON10, None, V1, JSON10),
            (None, None, V2, JSON20),
            ("text/csv", None, V1, ML21),
            ("text/csv", None, V2, ML30),
            (None, "csv", V2, ML30),
        ],
    )
    def test_never_raises(
        self, accept: str | None, fmt: str | None, api: ApiVersion, expected: str
    ) -> None:
        assert negotiate_error(accept, fmt, api, STRUCTURE_OFFERED) == expected

    def test_fallback_outside_offered(self) -> None:
        assert negotiate_error("text/csv", None, V2, [JSON20, ML21]) == JSON20


class TestMediaType:
    def test_parse(self) -> None:
        mt = MediaType.parse("application/vnd.sdmx.structure+xml; version=3.0.0; charset=utf-8")
        assert (mt.label, mt.base, mt.version) == ("structure", "xml", "3.0.0")
        assert mt.media_range == ML
        assert str(mt) == ML30

    def test_parse_other_types(self) -> None:
        mt = MediaType.parse("application/json")
        assert (mt.media_range, mt.base, mt.version, mt.canonical) == (
            "application/json",
            "json",
            "",
            "application/json",
        )

    @pytest.mark.parametrize(
        ("canonical", "header", "expected"),
        [
            (ML30, ML30, True),
            (ML30, f"{ML}; version=3.0; charset=utf-8", True),
            (ML30, f"{ML};version=3.0.0+", True),
            (ML30, ML, True),
            (ML30, f"{ML};version=2.1", False),
            (ML30, JSON20, False),
            (ML21, f"{ML};version=2.1.0", True),
            (ML21, f"{ML};version=2.1+", False),
            (JSON20, f"{JSON};version=1+.0.0", True),
            (JSON20, f"{JSON};version=bogus", False),
            (JSON20, "application/json", False),
        ],
    )
    def test_matches(self, canonical: str, header: str, expected: bool) -> None:
        assert MediaType.parse(canonical).matches(header) is expected


class TestLanguages:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, ()),
            ("", ()),
            ("fr", ("fr",)),
            ("ru, en-gb;q=0.8, en;q=0.7", ("ru", "en-GB", "en")),
            ("en;q=0.5, fr;q=0.9, es", ("es", "fr", "en")),
            ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", ("fr-CH", "fr", "en", "de")),
            ("de;q=0, en", ("en",)),
            ("*", ()),
            ("es;q=abc, en;q=1.5, fr", ("fr",)),
            ("EN-us, zh-hant-tw;q=0.5", ("en-US", "zh-Hant-TW")),
            ("fr;q=0.8, es;q=0.8, en;q=0.8", ("fr", "es", "en")),
            ("en, EN;q=0.1", ("en",)),
            ("en_US, ar", ("ar",)),
        ],
    )
    def test_order(self, header: str | None, expected: tuple[str, ...]) -> None:
        assert negotiate_language(header) == expected
