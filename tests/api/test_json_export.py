"""Plain SDMX-JSON 2.0 exports written by PostgreSQL (usecases/json_export.py) say what the
general path says, value for value: the same series, attributes and observations, with
positions that point at the same values (the two number values differently)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.usecases import json_export, pg_export
from tests.api import export_helpers
from tests.api.export_helpers import export_settings
from tests.api.test_upload_columnar import first_load, message, obs, revision
from tests.api.upload_helpers import Env, open_env
from tests.jsonschemas import validate_sdmx_json

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
JSON20 = "application/vnd.sdmx.data+json;version=2.0.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"

Series = dict[tuple[str, ...], tuple[dict[str, Any], dict[str, tuple[Any, dict[str, Any]]]]]


def decoded(body: bytes) -> tuple[dict[str, Any], Series]:
    """The data set's attributes, and per series key (codes): its attributes and, per period,
    the observation's value and attributes, every position resolved to its value."""
    found = json.loads(body)
    structure = found["data"]["structures"][0]
    dims = structure["dimensions"]["series"]
    [at_obs] = structure["dimensions"]["observation"]
    specs = structure["attributes"]

    def values(level: str, raw: list[Any]) -> dict[str, Any]:
        out = {}
        for spec, position in zip(specs[level], raw, strict=False):
            if position is None:
                continue
            if "values" in spec:
                value = spec["values"][position]
                out[spec["id"]] = value.get("id", value.get("value"))
            else:  # written in the observation itself
                out[spec["id"]] = position
        return out

    [dataset] = found["data"]["dataSets"]
    series: Series = {}
    for key, member in dataset["series"].items():
        codes = tuple(dims[n]["values"][int(p)]["id"] for n, p in enumerate(key.split(":")) if key)
        observations = {}
        for position, cells in member["observations"].items():
            period = at_obs["values"][int(position)]
            observations[period.get("id", period.get("value"))] = (
                cells[0],
                values("observation", cells[1:]),
            )
        series[codes] = (values("series", member.get("attributes", [])), observations)
    return values("dataSet", dataset.get("attributes", [])), series


@pytest.fixture
def env_pg(tmp_path: Path) -> Iterator[Env]:
    with open_env(export_settings(tmp_path, "json_export")) as env:
        yield env


@pytest.fixture
def loaded(env_pg: Env) -> Env:
    for body in (first_load(), revision()):
        assert env_pg.post(body).status_code == 201
    return env_pg


def spy_on_applies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What ``json_export.applies`` answers, query after query."""
    return export_helpers.spy_on_applies(monkeypatch, json_export)


def both_paths(env: Env, monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[bytes, bytes]:
    fast, general = export_helpers.both_paths(env, monkeypatch, json_export, url, JSON20)
    assert general != fast  # numbered otherwise, and prepared at another time
    return fast, general


@pytest.mark.parametrize(
    "path",
    [
        A05,
        A05 + "/THA.A.MST_TEMP_NB.SEX_T+SEX_F",  # a key with OR, trailing parts left out
        A05 + "/*.A.MST_TEMP_NB.*.*.*.ECO_ISIC4_A",
        "/rest/data/ILO,DF_ILMS_A05,1.0/.A.MST_TEMP_NB........",  # v1
    ],
)
def test_postgresql_writes_what_the_general_path_writes(
    loaded: Env, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    fast, general = both_paths(loaded, monkeypatch, path)
    found = decoded(fast)
    assert found == decoded(general)
    assert found[1], "the query matches data"
    assert any(attrs for attrs, _ in found[1].values()), "series attributes are compared"
    assert any(o[1] for _, obs_ in found[1].values() for o in obs_.values())


def test_values_that_need_escaping_and_odd_measures(
    env_pg: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = 'Survey, "quoted" \\ back\\slash\ntwo\tlines \\n <&> Thái 中文'
    sent = [
        obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", str(year), "1.5", SOURCE=odd)
        for year in range(2015, 2018)
    ]
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2015", "", OBS_STATUS="N", NOTE_CLASSIF=odd))
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2016", "NaN", OBS_STATUS="N"))
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2017", "-0.000012"))
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2018", "123456789012"))
    posted = env_pg.post(message(sent))
    assert posted.status_code == 201, posted.text[:1000]
    fast, general = both_paths(env_pg, monkeypatch, A05)
    _, found = decoded(fast)
    assert decoded(fast) == decoded(general)
    tha = next(v for k, v in found.items() if k[0] == "THA")
    assert {o[1]["SOURCE"] for o in tha[1].values()} == {odd}
    vnm = next(v for k, v in found.items() if k[0] == "VNM")[1]
    assert vnm["2015"][0] is None
    assert vnm["2015"][1]["NOTE_CLASSIF"] == odd
    assert vnm["2016"][0] is None  # NaN is SDMX's "no value"
    assert vnm["2017"][0] == pytest.approx(-0.000012)
    assert vnm["2018"][0] == 123456789012


@pytest.mark.parametrize("streams", [1, 2, 3])
def test_any_number_of_streams_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streams: int
) -> None:
    settings = export_settings(tmp_path, f"json_streams{streams}", export_streams=streams)
    with open_env(settings) as env:
        for body in (first_load(), revision()):
            assert env.post(body).status_code == 201
        fast, general = both_paths(env, monkeypatch, A05)
    assert decoded(fast) == decoded(general)
    assert fast.count(b'"observations"') == general.count(b'"observations"')


def test_nothing_matching_is_204(loaded: Env) -> None:
    assert loaded.client.get(A05 + "/LAO", headers={"Accept": JSON20}).status_code == 204


def test_queries_it_does_not_serve_take_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = spy_on_applies(monkeypatch)
    for params in (
        {"startPeriod": "2016"},
        {"dimensionAtObservation": "AllDimensions"},
        {"measures": "none"},
        {"attributes": "none"},
        {"lastNObservations": "1"},
        {"limit": "2"},
    ):
        response = loaded.client.get(A05, params=params, headers={"Accept": JSON20})
        assert response.status_code == 200, (params, response.text[:300])
    assert used == [False] * 6


def test_the_body_is_valid_json_whole(loaded: Env) -> None:
    """Series written by several connections are joined by commas, none before the first."""
    body = loaded.client.get(A05, headers={"Accept": JSON20}).content
    assert b'"series":{,' not in body
    assert json.loads(body)["data"]["dataSets"][0]["series"]


def test_a_part_that_fails_fails_the_answer_rather_than_hanging(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, conn: Any, part: int, parts: int) -> Iterator[bytes]:
        raise RuntimeError("the store went away")
        yield b""

    monkeypatch.setattr(json_export._Export, "part", broken)
    # an export streams from its head on: the stream fails (the client sees a broken transfer)
    with pytest.raises(RuntimeError, match="the store went away"):
        loaded.client.get(A05, headers={"Accept": JSON20})


def test_the_body_validates_against_the_official_schema(loaded: Env) -> None:
    body = loaded.client.get(A05, headers={"Accept": JSON20}).content
    validate_sdmx_json(body, "data", "2.0")


@pytest.mark.parametrize(("least", "exports"), [(10_000, 0), (40, 1), (2, 2), (10**9, 0)])
def test_only_answers_of_some_size_are_written_by_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, least: int, exports: int
) -> None:
    """A small answer costs less on the general path (no thread, no second connection): the
    whole flow (72 observations) and one series by a key with wildcards (6) choose by
    ``export_min_observations``; one series named in full always takes the general path,
    without counting."""
    settings = export_settings(tmp_path, f"json_least{least}", export_min_observations=least)
    with open_env(settings) as env:
        assert env.post(first_load()).status_code == 201
        used: list[str] = []
        export = json_export.export

        def spy(*args: Any, **kwargs: Any) -> Any:
            used.append("fast")
            return export(*args, **kwargs)

        monkeypatch.setattr(json_export, "export", spy)
        one = A05 + "/THA.A.MST_TEMP_NB.SEX_T.AGE_AGGREGATE_TOTAL.EDU_ISCED11_TOTAL.ECO_ISIC4_A"
        full = one + ".OCU_ISCO08_TOTAL.STE_ICSE93_TOTAL.CBR_BIR_TOTAL.CCT_CIT_TOTAL"
        for path in (A05, one, full):
            response = env.client.get(path, headers={"Accept": JSON20})
            assert response.status_code == 200, response.text[:300]
            assert decoded(response.content)[1]
    assert len(used) == exports


@pytest.mark.parametrize("binary", [True, False])
def test_either_copy_format_writes_the_same(
    env_pg: Env, monkeypatch: pytest.MonkeyPatch, binary: bool
) -> None:
    """On a UTF-8 database the rows come in COPY's binary format; elsewhere in its text format,
    escaped (backslashes, line breaks) and unescaped by the service: the same message."""
    odd = 'back\\slash \\n "quoted"\nnext line\ttab Thái'
    sent = [obs("THA", "SEX_T", "ECO_ISIC4_TOTAL", str(y), "1.5", SOURCE=odd) for y in (2015, 2016)]
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2015", "2", NOTE_CLASSIF=odd))
    assert env_pg.post(message(sent)).status_code == 201
    monkeypatch.setattr(pg_export, "_binary", lambda _driver: binary)
    csv_body = env_pg.client.get(A05, headers={"Accept": CSV20}).content.decode()
    lines = list(csv.DictReader(io.StringIO(csv_body)))
    assert [line["SOURCE"] for line in lines].count(odd) == 2
    assert [line["NOTE_CLASSIF"] for line in lines].count(odd) == 1
    fast, general = both_paths(env_pg, monkeypatch, A05)
    assert decoded(fast) == decoded(general)
    _, found = decoded(fast)
    values = [o[1] for s in found.values() for o in s[1].values()]
    assert [v.get("SOURCE") for v in values].count(odd) == 2
    assert [v.get("NOTE_CLASSIF") for v in values].count(odd) == 1
