"""Availability queries (v1 ``availableconstraint``, v2 ``availability``) on both stores: the
Actual constraint's codes, time range and counts equal what was loaded; exact and available
modes; key, provider, period, ``c[...]`` and ``updatedAfter`` filters; ``componentID``;
``references``; empty answers; HTTP (ETag, 304, HEAD, gzip, CORS); every structure format
validated against the official schemas and read by sdmx1 and pysdmx."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree

from tests.api.conftest import Env
from tests.api.test_data_query import CSV20, error_code, get_csv, second_over
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.jsonschemas import validate_sdmx_json
from tests.xsd import validate_sdmx_ml

V1 = "/rest/availableconstraint/ILO,DF_ILMS_A05,1.0"
V2 = "/rest/v2/availability/dataflow/ILO/DF_ILMS_A05/1.0"
DATA = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON10 = "application/vnd.sdmx.structure+json;version=1.0.0"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"
DIMS = ("REF_AREA", "FREQ", "MEASURE", "SEX", "AGE", "EDU", "ECO", "OCU", "STE", "CBR", "CCT")
A, B = "ECO_ISIC4_A", "ECO_ISIC4_B"

#: The sdmx-rest availability example: (area, ECO, SEX) = (UK, EMP, M), (FR, EMP, M),
#: (FR, UEMP, F), here (THA, A, SEX_M), (VNM, A, SEX_M), (VNM, B, SEX_F), with periods.
LOADED = [
    row(area="THA", sex="SEX_M", eco=A, year="2018", value="10"),
    row(area="THA", sex="SEX_M", eco=A, year="2019", value="11"),
    row(area="THA", sex="SEX_M", eco=A, year="2020", value="12"),
    row(area="VNM", sex="SEX_M", eco=A, year="2019", value="20"),
    row(area="VNM", sex="SEX_M", eco=A, year="2020", value="21"),
    row(area="VNM", sex="SEX_F", eco=B, year="2015", value="3", status="E"),
]


def key(area: str = "", sex: str = "", eco: str = "") -> str:
    """A v1 key (every dimension) selecting areas, sexes and economic activities."""
    parts = dict.fromkeys(DIMS, "")
    parts.update(REF_AREA=area, SEX=sex, ECO=eco)
    return ".".join(parts.values())


@dataclass(frozen=True)
class Answer:
    """What an availability answer says, whatever its format."""

    codes: dict[str, list[str]]
    time: tuple[str, str] | None
    series: int
    observations: int
    attachment: str


def _xml_answer(content: bytes) -> Answer:
    root = etree.fromstring(content)
    [constraint] = root.xpath(
        "//*[local-name()='ContentConstraint' or local-name()='DataConstraint']"
    )
    codes: dict[str, list[str]] = {}
    time = None
    for kv in constraint.xpath(".//*[local-name()='KeyValue']"):
        start = kv.xpath(".//*[local-name()='StartPeriod']/text()")
        if start:
            time = (start[0], kv.xpath(".//*[local-name()='EndPeriod']/text()")[0])
        else:
            codes[kv.get("id")] = kv.xpath("./*[local-name()='Value']/text()")
    counts = {
        a.get("id"): int(a.xpath("./*[local-name()='AnnotationTitle']/text()")[0])
        for a in constraint.xpath(".//*[local-name()='Annotation']")
    }
    attachment = constraint.xpath(".//*[local-name()='ConstraintAttachment']/*")[0]
    return Answer(
        codes, time, counts["series_count"], counts["obs_count"], etree.QName(attachment).localname
    )


def _json_answer(doc: dict[str, Any]) -> Answer:
    data = doc["data"]
    [constraint] = data.get("dataConstraints") or data["contentConstraints"]
    [region] = constraint["cubeRegions"]
    codes: dict[str, list[str]] = {}
    time = None
    for kv in region["keyValues"]:
        if "timeRange" in kv:
            tr = kv["timeRange"]
            time = (tr["startPeriod"]["period"], tr["endPeriod"]["period"])
        else:
            codes[kv["id"]] = [v["value"] if isinstance(v, dict) else v for v in kv["values"]]
    counts = {a["id"]: int(a["title"]) for a in constraint["annotations"]}
    [attachment] = constraint["constraintAttachment"]
    return Answer(codes, time, counts["series_count"], counts["obs_count"], attachment)


def answer(env: Env, url: str, accept: str | None = None, **params: str) -> Answer:
    """The availability a query answers (asserting a 200)."""
    headers = {"Accept": accept} if accept else {}
    response = env.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    if "json" in response.headers["content-type"]:
        return _json_answer(response.json())
    return _xml_answer(response.content)


@pytest.fixture
def loaded(env: Env) -> Env:
    posted = env.post(message(*LOADED))
    assert posted.status_code == 201, posted.text
    return env


# --- what was loaded comes back -----------------------------------------------------------------


class TestExact:
    def test_counts_codes_and_time_range_are_what_was_loaded(self, loaded: Env) -> None:
        found = answer(loaded, V1)
        assert found.codes["REF_AREA"] == ["THA", "VNM"]
        assert found.codes["SEX"] == ["SEX_F", "SEX_M"]
        assert found.codes["ECO"] == [A, B]
        assert found.codes["FREQ"] == ["A"]
        assert set(found.codes) == set(DIMS)
        assert found.time == ("2015", "2020")
        assert (found.series, found.observations) == (3, len(LOADED))
        assert found.attachment == "Dataflow"
        # the data query returns what availability counted
        assert len(get_csv(loaded, DATA)) == found.observations

    def test_v1_key(self, loaded: Env) -> None:
        found = answer(loaded, f"{V1}/{key(area='VNM')}")
        assert found.codes["REF_AREA"] == ["VNM"]
        assert found.codes["SEX"] == ["SEX_F", "SEX_M"]
        assert (found.series, found.observations, found.time) == (2, 3, ("2015", "2020"))

    def test_v2_keys_are_or_ed(self, loaded: Env) -> None:
        found = answer(loaded, f"{V2}/THA,*.*.*.SEX_F")
        assert found.codes["REF_AREA"] == ["THA", "VNM"]
        assert (found.series, found.observations) == (2, 4)

    def test_provider(self, loaded: Env) -> None:
        found = answer(loaded, f"{V1}/all/THA")
        assert found.codes["REF_AREA"] == ["THA"]
        assert (found.series, found.observations, found.time) == (1, 3, ("2018", "2020"))
        both = answer(loaded, f"{V1}/all/ILO,THA+VNM")
        assert both.observations == len(LOADED)
        agreement = "/rest/v2/availability/provisionagreement/ILO/PA_VNM_ILMS_A05/1.0"
        found = answer(loaded, agreement)
        assert found.codes["REF_AREA"] == ["VNM"]
        assert found.attachment in ("ProvisionAgreement", "provisionAgreements")

    def test_period_overlap(self, loaded: Env) -> None:
        found = answer(loaded, V1, startPeriod="2019", endPeriod="2019")
        assert found.codes["SEX"] == ["SEX_M"]
        assert (found.series, found.observations, found.time) == (2, 2, ("2019", "2019"))
        # an annual period overlaps its quarters
        quarter = answer(loaded, V2, startPeriod="2020-Q3")
        assert (quarter.observations, quarter.time) == (2, ("2020", "2020"))

    def test_component_filters(self, loaded: Env) -> None:
        on_time = answer(loaded, V2, **{"c[TIME_PERIOD]": "ge:2020"})
        assert (on_time.observations, on_time.time) == (2, ("2020", "2020"))
        on_dimension = answer(loaded, V2, **{"c[SEX]": "SEX_F"})
        assert (on_dimension.codes["REF_AREA"], on_dimension.observations) == (["VNM"], 1)
        on_attribute = answer(loaded, V2, **{"c[OBS_STATUS]": "E"})
        assert (on_attribute.codes["ECO"], on_attribute.observations) == ([B], 1)
        on_value = answer(loaded, V2, **{"c[OBS_VALUE]": "ge:20"})
        assert (on_value.codes["REF_AREA"], on_value.observations) == (["VNM"], 2)
        assert on_value.time == ("2019", "2020")
        combined = answer(loaded, V2, startPeriod="2019", **{"c[OBS_VALUE]": "lt:20"})
        assert (combined.codes["REF_AREA"], combined.observations) == (["THA"], 2)

    def test_updated_after_includes_deletions(self, loaded: Env) -> None:
        before = dt.datetime.now(dt.UTC)
        changes = message(
            row(area="THA", sex="SEX_M", eco=A, year="2020", value="99"),
            row(area="VNM", sex="SEX_F", eco=B, year="2015", value="", source="", action="D"),
        )
        assert loaded.post(changes).status_code == 201
        found = answer(loaded, V1, updatedAfter=before.isoformat())
        assert found.codes["REF_AREA"] == ["THA", "VNM"]
        assert found.codes["ECO"] == [A, B]
        assert (found.series, found.observations, found.time) == (2, 2, ("2015", "2020"))
        later = dt.datetime.now(dt.UTC).isoformat()
        assert loaded.client.get(V1, params={"updatedAfter": later}).status_code == 404

    def test_datastructure_context(self, loaded: Env) -> None:
        found = answer(loaded, "/rest/v2/availability/datastructure/ILO/DSD_ILMS_STOCK/1.0")
        assert found.observations == len(LOADED)
        assert found.attachment == "dataStructures"


class TestAvailableMode:
    """sdmx-rest ``doc/availability.md``'s example, step by step."""

    def test_one_series_selected(self, loaded: Env) -> None:
        url = f"{V1}/{key(area='VNM', sex='SEX_F')}"
        exact = answer(loaded, url)
        assert (exact.codes["REF_AREA"], exact.codes["ECO"], exact.codes["SEX"]) == (
            ["VNM"],
            [B],
            ["SEX_F"],
        )
        available = answer(loaded, url, mode="available")
        assert available.codes["REF_AREA"] == ["VNM"]  # THA has no SEX_F
        assert available.codes["ECO"] == [B]
        assert available.codes["SEX"] == ["SEX_F", "SEX_M"]  # SEX_M adds series
        assert (available.series, available.observations) == (exact.series, exact.observations)

    def test_two_sexes_selected(self, loaded: Env) -> None:
        url = f"{V1}/{key(area='VNM', sex='SEX_F+SEX_M')}"
        exact = answer(loaded, url)
        assert (exact.codes["REF_AREA"], exact.codes["ECO"]) == (["VNM"], [A, B])
        available = answer(loaded, url, mode="available")
        assert available.codes["REF_AREA"] == ["THA", "VNM"]
        assert available.codes["ECO"] == [A, B]
        assert available.codes["SEX"] == ["SEX_F", "SEX_M"]

    def test_c_filters_are_selections_too(self, loaded: Env) -> None:
        found = answer(loaded, V2, mode="available", **{"c[SEX]": "SEX_F"})
        assert found.codes["SEX"] == ["SEX_F", "SEX_M"]
        assert found.codes["REF_AREA"] == ["VNM"]
        assert found.observations == 1

    def test_time_filters_hold_for_dimensions_not_for_the_time_range(self, loaded: Env) -> None:
        found = answer(loaded, f"{V1}/{key(area='THA')}", mode="available", startPeriod="2020")
        assert found.codes["REF_AREA"] == ["THA", "VNM"]  # VNM has 2020 data
        assert found.codes["SEX"] == ["SEX_M"]  # SEX_F only before 2020
        assert found.time == ("2018", "2020")  # THA's whole range remains selectable
        assert (found.series, found.observations) == (1, 1)


class TestComponentId:
    def test_one_dimension(self, loaded: Env) -> None:
        found = answer(loaded, f"{V1}/all/all/REF_AREA")
        assert found.codes == {"REF_AREA": ["THA", "VNM"]}
        assert found.time is None
        assert found.observations == len(LOADED)

    def test_time_period(self, loaded: Env) -> None:
        found = answer(loaded, f"{V1}/all/all/TIME_PERIOD")
        assert (found.codes, found.time) == ({}, ("2015", "2020"))

    def test_several_on_v2(self, loaded: Env) -> None:
        found = answer(loaded, f"{V2}/*/REF_AREA,SEX", mode="available")
        assert found.codes == {"REF_AREA": ["THA", "VNM"], "SEX": ["SEX_F", "SEX_M"]}

    def test_unknown_component(self, loaded: Env) -> None:
        for url in (f"{V1}/all/all/NOPE", f"{V2}/*/REF_AREA,OBS_STATUS"):
            response = loaded.client.get(url)
            assert response.status_code == 400, response.text
            assert error_code(response) == 140


# --- references ---------------------------------------------------------------------------------


def _items(scheme: etree._Element, tag: str) -> dict[str, str | None]:
    """Item id -> parent id of an SDMX-ML 2.1 item scheme."""
    found: dict[str, str | None] = {}
    for item in scheme.xpath(f"./*[local-name()='{tag}']"):
        parent = item.xpath("./*[local-name()='Parent']/Ref/@id")
        found[item.get("id")] = parent[0] if parent else None
    return found


class TestReferences:
    def test_all(self, loaded: Env) -> None:
        response = loaded.client.get(f"{V1}/{key(area='THA')}", params={"references": "all"})
        assert response.status_code == 200, response.text
        validate_sdmx_ml(response.content, "2.1")
        root = etree.fromstring(response.content)
        [flow] = root.xpath("//*[local-name()='Dataflow']/@id")
        [dsd] = root.xpath("//*[local-name()='DataStructure' and @agencyID]/@id")
        assert (flow, dsd) == ("DF_ILMS_A05", "DSD_ILMS_STOCK")
        [area] = root.xpath("//*[local-name()='Codelist' and @id='CL_AREA']")
        assert area.get("isPartial") == "true"
        assert list(_items(area, "Code")) == ["THA"]
        [eco] = root.xpath("//*[local-name()='Codelist' and @id='CL_ECO']")
        codes = _items(eco, "Code")
        assert A in codes
        assert all(parent is None or parent in codes for parent in codes.values())
        schemes = root.xpath("//*[local-name()='ConceptScheme']")
        assert all(scheme.get("isPartial") == "true" for scheme in schemes)
        used = {concept for scheme in schemes for concept in _items(scheme, "Concept")}
        assert {"REF_AREA", "SEX", "ECO", "TIME_PERIOD"} <= used
        assert "OBS_STATUS" not in used  # an attribute: not constrained
        [providers] = root.xpath("//*[local-name()='DataProviderScheme']")
        assert list(_items(providers, "DataProvider")) == ["THA"]

    def test_some_on_v2(self, loaded: Env) -> None:
        response = loaded.client.get(V2, params={"references": "codelist,conceptscheme"})
        assert response.status_code == 200, response.text
        doc = response.json()
        validate_sdmx_json(doc, "structure", "2.0")
        data = doc["data"]
        assert set(data) == {"dataConstraints", "codelists", "conceptSchemes"}
        [area] = [c for c in data["codelists"] if c["id"] == "CL_AREA"]
        assert [c["id"] for c in area["codes"]] == ["THA", "VNM"]
        assert area["isPartial"] is True

    def test_none_and_unknown(self, loaded: Env) -> None:
        doc = loaded.client.get(V2, params={"references": "none"}).json()
        assert set(doc["data"]) == {"dataConstraints"}
        for url, value in ((V1, "codelist,dataflow"), (V1, "parents"), (V2, "children")):
            response = loaded.client.get(url, params={"references": value})
            assert response.status_code == 400, (url, value)
            assert error_code(response) == 140


# --- nothing available ----------------------------------------------------------------------------


class TestEmpty:
    @pytest.mark.parametrize(
        ("v1", "v2", "params"),
        [
            (f"{V1}/{key(area='KHM')}", f"{V2}/KHM", {}),
            (V1, V2, {"startPeriod": "2030"}),
            (f"{V1}/{key(area='THA', sex='SEX_F')}", f"{V2}/THA.*.*.SEX_F", {"mode": "available"}),
            # the same data structure, but table 6 shows only the ECO total
            (
                "/rest/availableconstraint/DF_ILMS_A06",
                "/rest/v2/availability/dataflow/ILO/DF_ILMS_A06",
                {},
            ),
        ],
    )
    def test_v1_404_v2_204(self, loaded: Env, v1: str, v2: str, params: dict[str, str]) -> None:
        response = loaded.client.get(v1, params=params)
        assert response.status_code == 404, response.text
        assert error_code(response) == 100
        response = loaded.client.get(v2, params=params)
        assert response.status_code == 204, response.text
        assert response.content == b""

    def test_no_data_yet(self, env: Env) -> None:
        response = env.client.get(V1)
        assert response.status_code == 404
        assert error_code(response) == 100
        assert env.client.get(V2).status_code == 204


# --- HTTP -----------------------------------------------------------------------------------------


class TestHttp:
    def test_etag_304_and_change(self, loaded: Env) -> None:
        second_over()  # Last-Modified is given once the second of the last change is over
        first = loaded.client.get(V1)
        etag = first.headers["etag"]
        assert first.headers["last-modified"].endswith("GMT")
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["vary"].startswith("Accept, Accept-Language")
        cached = loaded.client.get(V1, headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.content == b""
        since = loaded.client.get(V1, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304
        other_query = loaded.client.get(
            V1, params={"mode": "available"}, headers={"If-None-Match": etag}
        )
        assert other_query.status_code == 200
        other_format = loaded.client.get(V1, headers={"If-None-Match": etag, "Accept": JSON10})
        assert other_format.status_code == 200
        assert loaded.post(message(row(area="KHM"))).status_code == 201
        changed = loaded.client.get(V1, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert _xml_answer(changed.content).codes["REF_AREA"] == ["KHM", "THA", "VNM"]

    def test_head(self, loaded: Env) -> None:
        got = loaded.client.get(V2)
        head = loaded.client.head(V2)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-type"] == JSON20
        assert loaded.client.head(f"{V2}/KHM").status_code == 204

    def test_gzip_cors_and_language(self, loaded: Env) -> None:
        headers = {"Accept-Encoding": "gzip", "Origin": "https://example.org"}
        response = loaded.client.get(V1, params={"references": "all"}, headers=headers)
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.text.startswith("<?xml")  # httpx decodes it
        french = loaded.client.get(V2, headers={"Accept-Language": "fr"})
        assert french.headers["content-language"] == "en"  # the constraint's names: English
        french = loaded.client.get(
            V2, params={"references": "all"}, headers={"Accept-Language": "fr"}
        )
        assert french.headers["content-language"] == "fr"


class TestErrors:
    @pytest.mark.parametrize(
        ("path", "headers", "status", "code"),
        [
            (f"{V1}?mode=sometimes", {}, 400, 140),
            (f"{V1}?mode=exact&mode=available", {}, 400, 140),
            (f"{V1}?startPeriod=soon", {}, 400, 140),
            (f"{V2}?c[NOPE]=1", {}, 400, 140),
            (f"{V1}/THA", {}, 400, 140),  # a v1 key needs every dimension
            (f"{V2}/{'.'.join(['*'] * 20)}", {}, 400, 140),
            ("/rest/v2/availability/flow/ILO/DF_ILMS_A05/1.0", {}, 400, 140),
            ("/rest/availableconstraint/DF_NOPE", {}, 404, 100),
            (f"{V1}/all/NOPE", {}, 404, 100),
            ("/rest/v2/availability/dataflow/ILO/DF_NOPE", {}, 404, 100),
            (V1, {"Accept": CSV20}, 406, 1406),
            (f"{V2}?format=csv", {}, 406, 1406),
            ("/rest/availableconstraint", {}, 501, 501),  # every dataflow at once
            ("/rest/v2/availability/dataflow/ILO/*/1.0", {}, 501, 501),
            ("/rest/v2/availability/dataflow", {}, 501, 501),
            (f"{V2}?reportingYearStartDay=--07-01", {}, 501, 501),
        ],
    )
    def test_errors(
        self, loaded: Env, path: str, headers: dict[str, str], status: int, code: int
    ) -> None:
        response = loaded.client.get(path, headers={**headers, "Origin": "https://example.org"})
        assert response.status_code == status, response.text
        assert error_code(response) == code
        assert response.headers["access-control-allow-origin"] == "*"


# --- formats and clients ----------------------------------------------------------------------


class TestFormats:
    @pytest.mark.parametrize(
        ("url", "accept", "check"),
        [
            (V1, None, lambda b: validate_sdmx_ml(b, "2.1")),
            (V2, ML30, lambda b: validate_sdmx_ml(b, "3.0")),
            (V1, JSON10, lambda b: validate_sdmx_json(b, "structure", "1.0")),
            (V2, None, lambda b: validate_sdmx_json(b, "structure", "2.0")),
        ],
    )
    def test_every_format_validates(
        self, loaded: Env, url: str, accept: str | None, check: Any
    ) -> None:
        for mode in ("exact", "available"):
            headers = {"Accept": accept} if accept else {}
            response = loaded.client.get(
                url, params={"references": "all", "mode": mode}, headers=headers
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == (accept or (ML21 if url == V1 else JSON20))
            check(response.content)
            found = answer(loaded, url, accept, mode=mode)
            assert (found.series, found.observations, found.time) == (3, 6, ("2015", "2020"))

    def test_sdmx1_builds_the_urls_and_reads_the_answers(self, loaded: Env) -> None:
        sdmx = pytest.importorskip("sdmx")
        pytest.importorskip("sdmx.reader.xml.v30")
        for source, versions in (
            ("ILMS_AVAILABILITY_V1", ["2.1"]),
            ("ILMS_AVAILABILITY", ["3.0.0"]),
        ):
            base = "http://testserver/rest" + ("/v2" if versions == ["3.0.0"] else "")
            sdmx.add_source(
                {
                    "id": source,
                    "url": base,
                    "name": "ILMS (availability tests)",
                    "versions": versions,
                    "supports": {"availableconstraint": True},
                },
                override=True,
            )
        v1 = sdmx.Client("ILMS_AVAILABILITY_V1").get(
            "availableconstraint",
            "DF_ILMS_A05",
            key=key(area="VNM"),
            params={"mode": "available"},
            dry_run=True,
        )
        # sdmx1 reads no SDMX-ML 3.0 TimeRange (structure namespace) yet: ask for two
        # dimensions only; the schema test above validates the time range.
        v2 = sdmx.Client("ILMS_AVAILABILITY").get(
            "availableconstraint",
            "DF_ILMS_A05",
            agency_id="ILO",
            key="*",
            component_id="REF_AREA,SEX",
            dry_run=True,
        )
        assert v2.url.endswith("/availability/*/ILO/DF_ILMS_A05/+/*/REF_AREA,SEX")
        answers = [(v1.url, ML21, 2, True), (v2.url, ML30, 3, False)]
        for url, accept, series, with_time in answers:
            response = loaded.client.get(url, headers={"Accept": accept})
            assert response.status_code == 200, response.text
            read = sdmx.read_sdmx(io.BytesIO(response.content))
            [constraint] = read.constraint.values()
            assert constraint.role.role.name == "actual"
            [region] = constraint.data_content_region
            members = {str(dim): selection.values for dim, selection in region.member.items()}
            assert sorted(v.value for v in members["REF_AREA"]) == ["THA", "VNM"]
            if with_time:
                [time] = members["TIME_PERIOD"]
                assert (time.start.period.year, time.end.period.year) == (2015, 2020)
            metrics = {a.id: str(a.title) for a in constraint.annotations}
            assert int(metrics["series_count"]) == series

    def test_pysdmx_reads_the_answers(self, loaded: Env) -> None:
        read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
        for accept in (ML21, ML30, JSON20):
            response = loaded.client.get(f"{V2}/THA", headers={"Accept": accept})
            assert response.status_code == 200, response.text
            [constraint] = read_sdmx(response.text, validate=False).structures
            assert (constraint.series_count, constraint.obs_count) == (1, 3)
            values = {
                kv.id: [v.value for v in kv.values] for kv in constraint.cube_region.key_values
            }
            assert values["REF_AREA"] == ["THA"]
