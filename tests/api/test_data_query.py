"""Data queries: what was uploaded comes back by key in every data format, read back by real
SDMX clients and checked against the official schemas; negotiation, HTTP and errors."""

from __future__ import annotations

import csv
import gzip
import io
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from service.db import make_engine
from service.formats.readers.sdmx_json_data import read_rows as read_json_rows
from service.formats.writers.data_formats import OFFERED
from service.main import create_app
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.storage.tokens import TokenRepository
from service.usecases.flows import resolve_flow
from tests.api.conftest import Env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.api.test_upload_clients import STOCK_DSD_FILE
from tests.conftest import prepare, store_url
from tests.jsonschemas import validate_sdmx_json
from tests.xsd import validate_sdmx_ml

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
V1_A05 = "/rest/data/ILO,DF_ILMS_A05,1.0"
CSV10 = "application/vnd.sdmx.data+csv;version=1.0.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
GENERIC21 = "application/vnd.sdmx.genericdata+xml;version=2.1"
GENERIC_TS21 = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1"
SS21 = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
SS_TS21 = "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"
XML30 = "application/vnd.sdmx.data+xml;version=3.0.0"
JSON10 = "application/vnd.sdmx.data+json;version=1.0.0"
JSON20 = "application/vnd.sdmx.data+json;version=2.0.0"
ML21_ERROR = "application/vnd.sdmx.structure+xml;version=2.1"
ML30_ERROR = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON10_ERROR = "application/vnd.sdmx.structure+json;version=1.0.0"
JSON20_ERROR = "application/vnd.sdmx.structure+json;version=2.0.0"


# --- helpers shared by the data query tests ---------------------------------------------------


@contextmanager
def data_env(kind: str, tmp_path: Path, suffix: str, **settings: Any) -> Iterator[Env]:
    """A served store of a kind (sqlite, postgres) with the ILMS structures and two tokens;
    ``settings`` override the defaults (e.g. ``max_data_observations``)."""
    prepared = prepare(store_url(kind, tmp_path, suffix))
    configured = Settings(**{**prepared.model_dump(), **settings})
    with Session(make_engine(configured)) as session:
        admin, _ = TokenRepository(session).create(provider=None, is_admin=True)
        tha, _ = TokenRepository(session).create(provider="ILO:THA", is_admin=False)
        dsd = resolve_flow(StructureRepository(session), "ILO", "DF_ILMS_A05", "1.0").dsd
        session.commit()
    with TestClient(create_app(configured)) as client:
        yield Env(client, configured, admin, tha, dsd)


def records(response: Any, media_type: str = CSV20) -> list[dict[str, str]]:
    """The rows of an SDMX-CSV answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    return list(csv.DictReader(io.StringIO(response.text)))


def get_csv(env: Env, url: str, **params: Any) -> list[dict[str, str]]:
    """The SDMX-CSV 2.0 rows a query answers (asserting a 200)."""
    return records(env.client.get(url, params=params, headers={"Accept": CSV20}))


def error_code(response: Any) -> int:
    """The SDMX error code of an error message (SDMX-ML or SDMX-JSON)."""
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    root = etree.fromstring(response.content)
    return int(root.xpath("//*[local-name()='ErrorMessage']/@code")[0])


# --- what was uploaded comes back ---------------------------------------------------------------


class TestData:
    def test_what_was_uploaded_comes_back(self, env: Env) -> None:
        env.post(message(row(year="2019", status="E"), row(year="2020", value="11")))
        found = get_csv(env, A05)
        assert [(r["TIME_PERIOD"], r["OBS_VALUE"], r["OBS_STATUS"]) for r in found] == [
            ("2019", "10.5", "E"),
            ("2020", "11", ""),
        ]
        assert found[0]["STRUCTURE_ID"] == "ILO:DF_ILMS_A05(1.0)"
        assert found[0]["SOURCE"] == "LFS"  # attached to REF_AREA + MEASURE + TIME_PERIOD
        assert found[0]["REF_AREA"] == "THA"
        assert found[0]["ACTION"] == "I"

    def test_key_filters_v1_and_v2(self, env: Env) -> None:
        env.post(message(row(area="THA"), row(area="VNM"), row(area="MYS", sex="SEX_F")))
        v2 = get_csv(env, A05 + "/THA+VNM")
        assert sorted(r["REF_AREA"] for r in v2) == ["THA", "VNM"]
        several = get_csv(env, A05 + "/THA,*.*.*.SEX_F")
        assert sorted(r["REF_AREA"] for r in several) == ["MYS", "THA"]
        key = "MYS..MST_TEMP_NB.SEX_F......."
        v1 = get_csv(env, f"{V1_A05}/{key}")
        assert [r["REF_AREA"] for r in v1] == ["MYS"]
        assert len(get_csv(env, "/rest/data/DF_ILMS_A05/all")) == 3

    def test_a_dataflow_shows_only_its_tables_series(self, env: Env) -> None:
        env.post(message(row(eco="ECO_ISIC4_A")))  # table 5 (by economic activity)
        # the same DSD, table 6 (by occupation) allows ECO only at its total
        response = env.client.get("/rest/data/ILO,DF_ILMS_A06,1.0")
        assert response.status_code == 404
        assert error_code(response) == 100
        structure = get_csv(env, "/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0")
        assert [r["ECO"] for r in structure] == ["ECO_ISIC4_A"]

    def test_deleted_data_are_gone(self, env: Env) -> None:
        env.post(message(row(year="2019"), row(year="2020")))
        env.post(message(row(year="2020", value="", source="", action="D")))
        assert [r["TIME_PERIOD"] for r in get_csv(env, A05)] == ["2019"]

    def test_pysdmx_reads_csv(self, env: Env) -> None:
        read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
        env.post(message(row(year="2019"), row(year="2020", value="11")))
        text = env.client.get(A05, headers={"Accept": CSV20}).text
        [dataset] = read_sdmx(text).data
        frame = dataset.data
        assert sorted(frame["TIME_PERIOD"].astype(str)) == ["2019", "2020"]
        assert sorted(float(v) for v in frame["OBS_VALUE"]) == [10.5, 11.0]


# --- every format, read back ----------------------------------------------------------------------


def sdmx1_observations(content: bytes, **kw: Any) -> list[tuple[str, str, float, str, str]]:
    """(REF_AREA, TIME_PERIOD, OBS_VALUE, OBS_STATUS, SOURCE) of each observation, as sdmx1
    reads the message."""
    sdmx = pytest.importorskip("sdmx")
    # Reading structure-specific data adds the message's ``ns1`` namespace to sdmx1's global
    # SDMX-ML 2.1 namespaces, which breaks a later first import of its SDMX-ML 3.0 reader
    # (other tests use it): import that reader first.
    pytest.importorskip("sdmx.reader.xml.v30")
    read = sdmx.read_sdmx(io.BytesIO(content), **kw)
    [dataset] = read.data
    found = []
    for obs in dataset.obs:
        values = {kv.id: kv.value for kv in obs.key.values.values()}
        attrs = {k: str(v.value) for k, v in obs.attrib.items()}
        found.append(
            (
                str(values["REF_AREA"]),
                str(values["TIME_PERIOD"]),
                float(obs.value),
                attrs.get("OBS_STATUS", ""),
                attrs.get("SOURCE", ""),
            )
        )
    return sorted(found)


UPLOADED = [("THA", "2019", 10.5, "E", "LFS"), ("VNM", "2020", 11.0, "", "LFS")]


@pytest.fixture
def uploaded(env: Env) -> Env:
    body = message(row(year="2019", status="E"), row(area="VNM", year="2020", value="11"))
    assert env.post(body).status_code == 201
    return env


class TestFormats:
    # Structure-specific messages validate only against schemas made from the DSD: the
    # writers' own tests do that; generic messages validate against the official XSDs.
    @pytest.mark.parametrize("media_type", [GENERIC21, GENERIC_TS21])
    def test_generic_validates(self, uploaded: Env, media_type: str) -> None:
        response = uploaded.client.get(A05, headers={"Accept": media_type})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type
        validate_sdmx_ml(response.content, "2.1")

    @pytest.mark.parametrize("media_type", [GENERIC21, SS21])
    def test_sdmx_ml_21_read_by_sdmx1(self, uploaded: Env, media_type: str) -> None:
        response = uploaded.client.get(V1_A05, headers={"Accept": media_type})
        assert response.status_code == 200, response.text
        sdmx = pytest.importorskip("sdmx")
        dsd = sdmx.read_sdmx(STOCK_DSD_FILE).structure["DSD_ILMS_STOCK"]
        assert sdmx1_observations(response.content, structure=dsd) == UPLOADED

    def test_structure_specific_read_by_pysdmx(self, uploaded: Env) -> None:
        read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
        response = uploaded.client.get(A05, headers={"Accept": SS21})
        assert response.headers["content-type"] == SS21
        [dataset] = read_sdmx(response.text).data
        frame = dataset.data
        found = sorted(
            zip(
                frame["REF_AREA"],
                frame["TIME_PERIOD"].astype(str),
                (float(v) for v in frame["OBS_VALUE"]),
                frame["OBS_STATUS"].fillna(""),
                frame["SOURCE"],
                strict=True,
            )
        )
        assert found == UPLOADED
        assert dataset.short_urn.endswith("ILO:DF_ILMS_A05(1.0)")

    def test_json_20_validates_and_is_read_back(self, uploaded: Env) -> None:
        response = uploaded.client.get(A05)  # the v2 default
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON20
        doc = response.json()
        validate_sdmx_json(doc, "data", "2.0")
        # Neither pysdmx nor sdmx1 reads SDMX-JSON 2.0 data: the service's own reader does.
        rows = read_json_rows(io.BytesIO(response.content), uploaded.dsd)
        found = sorted(
            (
                r.key["REF_AREA"],
                r.time,
                float(r.value or "nan"),
                r.attrs.get("OBS_STATUS", ""),
                r.attrs.get("SOURCE", ""),
            )
            for r in rows
        )
        assert found == UPLOADED

    def test_json_10_validates(self, uploaded: Env) -> None:
        # sdmx1 2.x reads the pre-release SDMX-JSON 1.0 layout (top-level "header" and
        # "structure"), not the published one: the schema is the check here.
        response = uploaded.client.get(V1_A05, params={"format": "jsondata"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON10
        doc = response.json()
        validate_sdmx_json(doc, "data", "1.0")
        series = doc["data"]["dataSets"][0]["series"].values()
        values = sorted(o[0] for s in series for o in s["observations"].values())
        assert values == [10.5, 11.0]

    def test_csv_10_on_v1(self, uploaded: Env) -> None:
        found = records(uploaded.client.get(V1_A05, params={"format": "csv"}), CSV10)
        assert [r["DATAFLOW"] for r in found] == ["ILO:DF_ILMS_A05(1.0)"] * 2

    def test_datastructure_context_names_the_dsd(self, uploaded: Env) -> None:
        url = "/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0"
        doc = uploaded.client.get(url, headers={"Accept": JSON20}).json()
        validate_sdmx_json(doc, "data", "2.0")
        urn = doc["data"]["structures"][0]["links"][0]["urn"]
        assert urn.endswith("DataStructure=ILO:DSD_ILMS_STOCK(1.0)")
        xml = uploaded.client.get(url, params={"format": "structurespecificdata"}).text
        assert 'class="DataStructure"' in xml

    @pytest.mark.parametrize(
        ("url", "accept", "expected"),
        [
            # Defaults: GenericData 2.1 (v1), SDMX-JSON 2.0 (v2).
            (V1_A05, None, GENERIC21),
            (A05, None, JSON20),
            (V1_A05, "*/*", GENERIC21),
            (A05, "*/*", JSON20),
            (A05, "application/*", JSON20),
            # Generic types: the API's flavour.
            (V1_A05, "application/xml", GENERIC21),
            (A05, "application/xml", XML30),
            (V1_A05, "application/json", JSON10),
            (A05, "application/json", JSON20),
            (V1_A05, "text/csv", CSV10),
            (A05, "text/csv", CSV20),
            (A05, "application/vnd.sdmx.data+json", JSON20),
            (A05, "application/vnd.sdmx.data+json;version=1.0.0", JSON10),
            # q-values: the highest wins; the most specific range sets a format's q.
            (A05, f"{JSON20}, {CSV20};q=0.5", JSON20),
            (A05, f"{CSV20};q=0.4, {SS21};q=0.9, {JSON20};q=0.5", SS21),
            (A05, f"{SS21};q=0.2, */*;q=0.9", JSON20),
            (A05, f"{JSON20};q=0, */*", XML30),
            (A05, "text/csv;q=0.1, application/vnd.sdmx.data+json;q=0.2", JSON20),
        ],
    )
    def test_accept(self, uploaded: Env, url: str, accept: str | None, expected: str) -> None:
        headers = {} if accept is None else {"Accept": accept}
        response = uploaded.client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == expected

    @pytest.mark.parametrize(
        ("url", "fmt", "expected"),
        [
            # ILOSTAT's names.
            (V1_A05, "csv", CSV10),
            (A05, "csv", CSV20),
            (V1_A05, "jsondata", JSON10),
            (A05, "jsondata", JSON20),
            (V1_A05, "genericdata", GENERIC21),
            (V1_A05, "generic_2_1", GENERIC21),
            (V1_A05, "structurespecificdata", SS21),
            (V1_A05, "compact_2_1", SS21),
            (A05, "xml", XML30),
            (V1_A05, "xml", GENERIC21),
            (A05, SS21, SS21),
            (A05, "GenericData", GENERIC21),
        ],
    )
    def test_format_names(self, uploaded: Env, url: str, fmt: str, expected: str) -> None:
        response = uploaded.client.get(url, params={"format": fmt}, headers={"Accept": JSON20})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == expected

    def test_every_offered_format_answers(self, uploaded: Env) -> None:
        for media_type in OFFERED:
            response = uploaded.client.get(V1_A05, headers={"Accept": media_type})
            assert response.status_code == 200, (media_type, response.text)
            assert response.headers["content-type"] == media_type

    def test_csv_options_from_the_media_type(self, uploaded: Env) -> None:
        accept = f"{CSV20};labels=both;keys=series"
        response = uploaded.client.get(A05, headers={"Accept": accept})
        header = response.text.splitlines()[0]
        assert "SERIES_KEY" in header
        assert header.startswith("STRUCTURE,STRUCTURE_ID,ACTION,SERIES_KEY")
        assert "REF_AREA: " in header  # the column's name follows its id
        by_param = uploaded.client.get(A05, params={"format": "csv", "keys": "obs"})
        assert "OBS_KEY" in by_param.text.splitlines()[0]

    def test_values_that_are_not_numbers(self, uploaded: Env) -> None:
        posted = uploaded.post(message(row(year="2021", value="", status="N")))
        assert posted.status_code == 201, posted.text
        doc = uploaded.client.get(A05 + "/THA", headers={"Accept": JSON20}).json()
        validate_sdmx_json(doc, "data", "2.0")
        [series] = doc["data"]["dataSets"][0]["series"].values()
        values = [obs[0] for obs in series["observations"].values()]
        assert values[0] == 10.5
        assert values[-1] is None


# --- HTTP -------------------------------------------------------------------------------------


def second_over() -> None:
    """Wait until the current second is over (HTTP dates count whole seconds)."""
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)


class TestHttp:
    def test_etag_304_and_change(self, env: Env) -> None:
        env.post(message(row()))
        second_over()  # Last-Modified is given once the second of the change is over
        first = env.client.get(A05, headers={"Accept": CSV20})
        etag = first.headers["etag"]
        assert first.headers["last-modified"].endswith("GMT")
        assert first.headers["cache-control"] == "no-cache"
        again = env.client.get(A05, headers={"Accept": CSV20, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        listed = env.client.get(A05, headers={"Accept": CSV20, "If-None-Match": f'"x", {etag}'})
        assert listed.status_code == 304
        other_format = env.client.get(A05, headers={"Accept": JSON20, "If-None-Match": etag})
        assert other_format.status_code == 200
        since = env.client.get(
            A05, headers={"Accept": CSV20, "If-Modified-Since": first.headers["last-modified"]}
        )
        assert since.status_code == 304
        env.post(message(row(value="99")))
        changed = env.client.get(A05, headers={"Accept": CSV20, "If-None-Match": etag})
        assert changed.status_code == 200

    def test_headers(self, uploaded: Env) -> None:
        response = uploaded.client.get(
            A05, headers={"Accept": CSV20, "Origin": "https://example.org", "Accept-Language": "fr"}
        )
        assert response.headers["content-disposition"] == (
            'attachment; filename="ILO_DF_ILMS_A05_1.0.csv"'
        )
        assert response.headers["vary"].startswith("Accept, Accept-Language")
        assert response.headers["content-language"] == "fr"
        assert response.headers["access-control-allow-origin"] == "*"
        json_answer = uploaded.client.get(A05, headers={"Accept": JSON20})
        assert "content-disposition" not in json_answer.headers
        assert json_answer.headers["content-language"] == "en"

    def test_gzip(self, uploaded: Env) -> None:
        response = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.text.startswith("<?xml")  # httpx decodes it
        raw = uploaded.client.get(A05, headers={"Accept": SS21, "Accept-Encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert gzip.decompress(gzip.compress(raw.content)) == raw.content

    def test_head(self, uploaded: Env) -> None:
        got = uploaded.client.get(A05, headers={"Accept": CSV20})
        head = uploaded.client.head(A05, headers={"Accept": CSV20})
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-type"] == CSV20
        assert uploaded.client.head(A05 + "/KHM").status_code == 204
        assert uploaded.client.head("/rest/data/DF_ILMS_A05/KHM..........").status_code == 404
        assert uploaded.client.head(A05 + "?limit=0").status_code == 400


class TestErrors:
    @pytest.mark.parametrize(
        ("path", "headers", "status", "code"),
        [
            ("/rest/data/DF_ILMS_A05", {}, 404, 100),  # nothing uploaded yet
            ("/rest/v2/data/dataflow/ILO/DF_NOPE/1.0", {}, 404, 100),
            ("/rest/data/DF_NOPE", {}, 404, 100),
            (A05 + "?startPeriod=2020-13", {}, 400, 140),
            (A05 + "?c[NOPE]=1", {}, 400, 140),
            (A05 + "?dimensionAtObservation=NOPE", {}, 400, 140),
            (A05 + "?detail=some", {}, 400, 140),
            (A05 + "?includeHistory=perhaps", {}, 400, 140),
            (A05 + "?updatedAfter=yesterday", {}, 400, 140),
            (A05 + "?updatedAfter=2025-01-02&asOf=2025-01-01", {}, 400, 140),
            (A05 + "?lastNObservations=0", {}, 400, 140),
            (A05 + "?reportingYearStartDay=--07-01", {}, 501, 501),
            (A05 + "?reportingYearStartDay=07-01", {}, 400, 140),
            (A05 + "?sort=OBS_STATUS", {}, 501, 501),
            (A05, {"Accept": "application/vnd.sdmx.data+json;version=3.0.0"}, 406, 1406),
            (A05, {"Accept": f"{SS21};q=0, text/html"}, 406, 1406),
            (A05 + "?format=pdf", {}, 406, 1406),
            (A05 + "?format=" + ML21_ERROR, {}, 406, 1406),
            (A05 + "?dimensionAtObservation=REF_AREA", {"Accept": SS_TS21}, 406, 1406),
            ("/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0", {"Accept": CSV10}, 406, 1406),
            # What the writer refuses is known before the first byte too.
            (V1_A05 + "?keys=series", {"Accept": CSV10}, 406, 1406),
            (A05, {"Accept": f"{CSV20};labels=fancy"}, 406, 1406),
            ("/rest/data/DF_ILMS_A05/THA.A", {}, 400, 140),  # a v1 key needs every dimension
            ("/rest/data/ILO,DF_ILMS_A05,1.0,X", {}, 400, 140),
            ("/rest/data/DF_ILMS_A05/all/NOPE", {}, 404, 100),
            ("/rest/v2/data/dataflow/ILO/*/1.0", {}, 501, 501),  # several dataflows
            ("/rest/v2/data/flow/ILO/DF_ILMS_A05/1.0", {}, 400, 140),
        ],
    )
    def test_errors(
        self, uploaded: Env, path: str, headers: dict[str, str], status: int, code: int
    ) -> None:
        if path == "/rest/data/DF_ILMS_A05":
            path = "/rest/data/DF_ILMS_C01"  # a dataflow whose DSD has no data
        response = uploaded.client.get(path, headers=headers)
        assert response.status_code == status, response.text
        assert error_code(response) == code
        assert response.headers["access-control-allow-origin"] == "*"

    @pytest.mark.parametrize(
        ("url", "accept", "expected"),
        [
            (V1_A05, None, ML21_ERROR),
            (A05, None, JSON20_ERROR),
            (A05, JSON10, JSON10_ERROR),
            (V1_A05, JSON20, JSON20_ERROR),
            (A05, XML30, ML30_ERROR),
            (A05, SS21, ML21_ERROR),
            (V1_A05, CSV20, ML21_ERROR),  # SDMX-CSV has no error message: the API's default
            (A05, CSV20, JSON20_ERROR),
        ],
    )
    def test_errors_follow_the_negotiated_format(
        self, uploaded: Env, url: str, accept: str | None, expected: str
    ) -> None:
        headers = {} if accept is None else {"Accept": accept}
        response = uploaded.client.get(url + "?startPeriod=x", headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"] == expected
        assert error_code(response) == 140

    def test_v2_empty_result_is_204(self, uploaded: Env) -> None:
        response = uploaded.client.get(A05 + "/KHM")
        assert response.status_code == 204
        assert response.content == b""
        v1 = uploaded.client.get("/rest/data/DF_ILMS_A05/KHM..........")
        assert v1.status_code == 404
        assert error_code(v1) == 100


class TestCap:
    @pytest.fixture(params=["sqlite", "postgres"])
    def capped(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
        with data_env(str(request.param), tmp_path, "cap", max_data_observations=3) as env:
            rows = [row(year=str(year)) for year in range(2015, 2020)]
            assert env.post(message(*rows)).status_code == 201
            yield env

    def test_over_the_cap_is_413_before_any_byte(self, capped: Env) -> None:
        response = capped.client.get(A05, headers={"Accept": CSV20})
        assert response.status_code == 413
        assert error_code(response) == 510

    def test_under_the_cap_by_filters(self, capped: Env) -> None:
        assert len(get_csv(capped, A05, limit=3)) == 3
        assert len(get_csv(capped, A05, lastNObservations=2)) == 2
        assert len(get_csv(capped, A05, startPeriod="2018")) == 2  # the year pre-filter counts
        assert len(get_csv(capped, A05, detail="serieskeysonly")) == 1

    def test_without_observations_the_cap_counts_series(self, capped: Env) -> None:
        more = [row(area=area) for area in ("VNM", "MYS", "IDN", "PHL")]  # 5 series in all
        assert capped.post(message(*more)).status_code == 201
        for detail in ("serieskeysonly", "nodata"):
            response = capped.client.get(A05, params={"detail": detail})
            assert response.status_code == 413
            assert "more than 3 series" in response.text
        assert "more than 3 observations" in capped.client.get(A05).text
