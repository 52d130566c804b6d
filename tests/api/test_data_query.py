"""Data queries (first increment): what was uploaded comes back, as SDMX-CSV 2.0, by key."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.conftest import Env
from tests.api.test_upload import csv as message
from tests.api.test_upload import row

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"


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
            (A05 + "?format=jsondata", {}, 406),
            ("/rest/data/DF_ILMS_A05/THA.A", {}, 400),  # a v1 key needs every dimension
            ("/rest/v2/data/provisionagreement/ILO/PA_THA_ILMS_A05/1.0", {}, 501),
        ],
    )
    def test_errors(self, env: Env, path: str, headers: dict[str, str], status: int) -> None:
        response = env.client.get(path, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["access-control-allow-origin"] == "*"
