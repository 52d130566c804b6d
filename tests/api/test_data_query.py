"""Data queries: what was uploaded comes back by key, as SDMX-CSV 2.0, SDMX-ML 2.1
structure-specific or SDMX-JSON 2.0, each read back by a real SDMX client."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from service.formats.readers.sdmx_json_data import read_rows as read_json_rows
from tests.api.conftest import Env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.api.test_upload_clients import STOCK_DSD_FILE
from tests.jsonschemas import validate_sdmx_json

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
SS21 = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
JSON20 = "application/vnd.sdmx.data+json;version=2.0.0"


def records(response: Any) -> list[dict[str, str]]:
    assert response.headers["content-type"] == CSV20
    return list(csv.DictReader(io.StringIO(response.text)))


class TestData:
    def test_what_was_uploaded_comes_back(self, env: Env) -> None:
        env.post(message(row(year="2019", status="E"), row(year="2020", value="11")))
        found = records(env.client.get(A05))
        assert [(r["TIME_PERIOD"], r["OBS_VALUE"], r["OBS_STATUS"]) for r in found] == [
            ("2019", "10.5", "E"),
            ("2020", "11", ""),
        ]
        assert found[0]["STRUCTURE_ID"] == "ILO:DF_ILMS_A05(1.0)"
        assert found[0]["SOURCE"] == "LFS"  # attached to REF_AREA + MEASURE + TIME_PERIOD
        assert found[0]["REF_AREA"] == "THA"

    def test_key_filters_v1_and_v2(self, env: Env) -> None:
        env.post(message(row(area="THA"), row(area="VNM"), row(area="MYS", sex="SEX_F")))
        v2 = records(env.client.get(A05 + "/THA+VNM"))
        assert sorted(r["REF_AREA"] for r in v2) == ["THA", "VNM"]
        several = records(env.client.get(A05 + "/THA,*.*.*.SEX_F"))
        assert sorted(r["REF_AREA"] for r in several) == ["MYS", "THA"]
        key = "MYS..MST_TEMP_NB.SEX_F......."
        v1 = records(env.client.get(f"/rest/data/ILO,DF_ILMS_A05,1.0/{key}"))
        assert [r["REF_AREA"] for r in v1] == ["MYS"]
        assert len(records(env.client.get("/rest/data/DF_ILMS_A05/all"))) == 3

    def test_a_dataflow_shows_only_its_tables_series(self, env: Env) -> None:
        env.post(message(row(eco="ECO_ISIC4_A")))  # table 5 (by economic activity)
        # the same DSD, table 6 (by occupation) allows ECO only at its total
        response = env.client.get("/rest/v2/data/dataflow/ILO/DF_ILMS_A06/1.0")
        assert response.status_code == 404
        structure = env.client.get("/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0")
        assert [r["ECO"] for r in records(structure)] == ["ECO_ISIC4_A"]

    def test_deleted_data_are_gone(self, env: Env) -> None:
        env.post(message(row(year="2019"), row(year="2020")))
        env.post(message(row(year="2020", value="", source="", action="D")))
        assert [r["TIME_PERIOD"] for r in records(env.client.get(A05))] == ["2019"]

    def test_pysdmx_reads_it(self, env: Env) -> None:
        read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
        env.post(message(row(year="2019"), row(year="2020", value="11")))
        text = env.client.get(A05).text
        message_read = read_sdmx(text)
        [dataset] = message_read.data
        frame = dataset.data
        assert sorted(frame["TIME_PERIOD"].astype(str)) == ["2019", "2020"]
        assert sorted(float(v) for v in frame["OBS_VALUE"]) == [10.5, 11.0]


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


class TestFormats:
    @pytest.fixture
    def uploaded(self, env: Env) -> Env:
        body = message(row(year="2019", status="E"), row(area="VNM", year="2020", value="11"))
        assert env.post(body).status_code == 201
        return env

    def test_structure_specific_read_by_sdmx1(self, uploaded: Env) -> None:
        response = uploaded.client.get(A05, params={"format": "structurespecificdata"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == SS21
        assert response.headers["content-disposition"].endswith('_1.0.xml"')
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

    def test_json_validates_and_is_read_by_sdmx1(self, uploaded: Env) -> None:
        response = uploaded.client.get(A05, params={"format": "json"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON20
        doc = response.json()
        validate_sdmx_json(doc, "data", "2.0")
        assert doc["data"]["structures"][0]["links"][0]["urn"].endswith(
            "Dataflow=ILO:DF_ILMS_A05(1.0)"
        )
        # Neither pysdmx 1.21 nor sdmx1 2.28 reads SDMX-JSON 2.0 data (pysdmx reads SDMX-JSON
        # structures only; sdmx1 reads 1.0 and fails on 2.0's ``structures`` list): the
        # service's own streaming reader reads it back, structure last and all.
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

    def test_datastructure_context_names_the_dsd(self, uploaded: Env) -> None:
        url = "/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0"
        doc = uploaded.client.get(url, headers={"Accept": JSON20}).json()
        validate_sdmx_json(doc, "data", "2.0")
        urn = doc["data"]["structures"][0]["links"][0]["urn"]
        assert urn.endswith("DataStructure=ILO:DSD_ILMS_STOCK(1.0)")
        xml = uploaded.client.get(url, params={"format": "xml"}).text
        assert 'class="DataStructure"' in xml
        assert "<common:Structure><Ref" in xml

    @pytest.mark.parametrize(
        ("accept", "expected"),
        [
            (None, CSV20),  # no Accept: SDMX-CSV 2.0, as before
            ("*/*", CSV20),
            ("application/*", CSV20),
            (f"{JSON20}, {CSV20};q=0.5", JSON20),
            (f"{CSV20};q=0.4, {SS21};q=0.9, {JSON20};q=0.5", SS21),
            (f"{SS21};q=0.2, */*;q=0.9", CSV20),  # the wildcard's q counts for the others
            ("application/vnd.sdmx.structurespecificdata+xml", SS21),
            ("application/json", JSON20),
            (f"{JSON20};q=0, */*", CSV20),
            ("text/csv;q=0.1, application/vnd.sdmx.data+json;q=0.2", JSON20),
            (f"{CSV20}, {JSON20}", CSV20),  # a tie: the default
        ],
    )
    def test_accept_q_values(self, uploaded: Env, accept: str | None, expected: str) -> None:
        headers = {} if accept is None else {"Accept": accept}
        response = uploaded.client.get(A05, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == expected

    def test_format_overrides_accept_and_etags_differ(self, uploaded: Env) -> None:
        answers = {
            fmt: uploaded.client.get(A05, params={"format": fmt}, headers={"Accept": JSON20})
            for fmt in ("csv", "xml", "json")
        }
        assert [a.headers["content-type"] for a in answers.values()] == [CSV20, SS21, JSON20]
        assert len({a.headers["etag"] for a in answers.values()}) == 3

    def test_values_that_are_not_numbers(self, uploaded: Env) -> None:
        posted = uploaded.post(message(row(year="2021", value="", status="N")))
        assert posted.status_code == 201, posted.text
        doc = uploaded.client.get(A05 + "/THA", params={"format": "json"}).json()
        validate_sdmx_json(doc, "data", "2.0")
        [series] = doc["data"]["dataSets"][0]["series"].values()
        values = [obs[0] for obs in series["observations"].values()]
        assert values[0] == 10.5
        assert values[-1] is None


class TestHttp:
    def test_etag_and_file_name(self, env: Env) -> None:
        env.post(message(row()))
        first = env.client.get(A05)
        assert first.headers["content-disposition"] == (
            'attachment; filename="ILO_DF_ILMS_A05_1.0.csv"'
        )
        again = env.client.get(A05, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        env.post(message(row(value="99")))
        changed = env.client.get(A05, headers={"If-None-Match": first.headers["etag"]})
        assert changed.status_code == 200

    @pytest.mark.parametrize(
        ("path", "headers", "status"),
        [
            (A05, {}, 404),  # nothing uploaded yet
            ("/rest/v2/data/dataflow/ILO/DF_NOPE/1.0", {}, 404),
            (A05 + "?startPeriod=2020", {}, 501),
            (A05 + "?c[SEX]=SEX_F", {}, 501),
            (A05, {"Accept": "application/vnd.sdmx.genericdata+xml;version=2.1"}, 406),
            (A05, {"Accept": "application/vnd.sdmx.data+json;version=1.0.0"}, 406),
            (A05, {"Accept": f"{SS21};q=0, text/html"}, 406),
            (A05 + "?format=genericdata", {}, 406),
            (A05 + "?format=application/vnd.sdmx.data+csv;version=1.0.0", {}, 406),
            ("/rest/data/DF_ILMS_A05/THA.A", {}, 400),  # a v1 key needs every dimension
            ("/rest/v2/data/provisionagreement/ILO/PA_THA_ILMS_A05/1.0", {}, 501),
        ],
    )
    def test_errors(self, env: Env, path: str, headers: dict[str, str], status: int) -> None:
        response = env.client.get(path, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["access-control-allow-origin"] == "*"
