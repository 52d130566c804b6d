"""Data query parameters, each with its edge cases: periods (overlap across frequencies),
first/last N observations, keys (wildcards mixed with OR), component filters, packaging,
detail, attributes and measures, paging and sorting, providers and v2 path wildcards.

One store per kind (SQLite, PostgreSQL) holds the data for the whole module; tests only read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Env
from tests.api.test_data_query import (
    A05,
    CSV20,
    JSON20,
    V1_A05,
    data_env,
    error_code,
    get_csv,
    records,
)
from tests.api.test_upload import HEADER, TOTALS, row
from tests.api.test_upload import csv as message
from tests.jsonschemas import validate_sdmx_json

DSD = "/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0"
#: (area, sex) -> {year: value} loaded through the dataflow (annual data).
ANNUAL = {
    ("THA", "SEX_T"): {"2018": "1", "2019": "2", "2020": "3", "2021": "4", "2022": "5"},
    ("THA", "SEX_F"): {"2019": "6", "2020": "7"},
    ("THA", "SEX_M"): {"2020": "8"},
    ("VNM", "SEX_T"): {"2019": "9", "2020": "10", "2021": "11"},
    ("MYS", "SEX_F"): {"2020": "12.5"},
}
#: Quarterly data of Thailand, through the data structure (no dataflow allows FREQ=Q).
QUARTERS = {"2023-Q1": "21", "2023-Q2": "22", "2023-Q3": "23", "2023-Q4": "24"}


def quarter_row(period: str, value: str) -> str:
    middle = TOTALS.format(eco="ECO_ISIC4_TOTAL")
    return (
        f"datastructure,ILO:DSD_ILMS_STOCK(1.0),I,THA,Q,MST_TEMP_NB,SEX_T,{middle},"
        f"CBR_BIR_FOREIGN,CCT_CIT_TOTAL,{period},{value},,,LFS"
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    tmp: Path = tmp_path_factory.mktemp("data-params")
    with data_env(str(request.param), tmp, "dataparams") as env:
        rows = [
            row(area=area, sex=sex, year=year, value=value, status="E" if year == "2019" else "")
            for (area, sex), years in ANNUAL.items()
            for year, value in years.items()
        ]
        assert env.post(message(*rows)).status_code == 201
        annual_2023 = row(year="2023", value="20")
        assert env.post(message(annual_2023)).status_code == 201
        quarterly = [quarter_row(p, v) for p, v in QUARTERS.items()]
        body = ("\n".join([HEADER, *quarterly]) + "\n").encode()
        posted = env.post(body, url=DSD)
        assert posted.status_code == 201, posted.text
        yield env


def found(env: Env, url: str = A05, **params: Any) -> list[tuple[str, str, str, str]]:
    """(REF_AREA, SEX, TIME_PERIOD, OBS_VALUE) of each row, in the answer's order."""
    return [
        (r["REF_AREA"], r["SEX"], r["TIME_PERIOD"], r["OBS_VALUE"])
        for r in get_csv(env, url, **params)
    ]


def periods(env: Env, url: str = A05, **params: Any) -> list[str]:
    return sorted(r[2] for r in found(env, url, **params))


def status(env: Env, url: str, **params: Any) -> tuple[int, int | None]:
    response = env.client.get(url, params=params, headers={"Accept": CSV20})
    return response.status_code, error_code(response) if response.status_code >= 400 else None


THA_T = A05 + "/THA.A.MST_TEMP_NB.SEX_T"
THA_T_DSD = DSD + "/THA.*.MST_TEMP_NB.SEX_T"


class TestPeriods:
    def test_start_and_end(self, served: Env) -> None:
        assert periods(served, THA_T, startPeriod="2021") == ["2021", "2022", "2023"]
        assert periods(served, THA_T, endPeriod="2019") == ["2018", "2019"]
        assert periods(served, THA_T, startPeriod="2019", endPeriod="2020") == ["2019", "2020"]

    def test_annual_overlaps_a_quarter_and_a_month(self, served: Env) -> None:
        # An annual 2023 observation covers 2023-Q3: it overlaps startPeriod=2023-Q3.
        assert periods(served, THA_T_DSD, startPeriod="2023-Q3") == ["2023", "2023-Q3", "2023-Q4"]
        assert periods(served, THA_T_DSD, endPeriod="2023-Q1") == [
            "2018",
            "2019",
            "2020",
            "2021",
            "2022",
            "2023",
            "2023-Q1",
        ]
        assert periods(served, THA_T_DSD, startPeriod="2023-08", endPeriod="2023-08") == [
            "2023",
            "2023-Q3",
        ]
        assert periods(served, THA_T_DSD, startPeriod="2023-S2") == ["2023", "2023-Q3", "2023-Q4"]

    def test_days_weeks_and_date_times(self, served: Env) -> None:
        assert periods(served, THA_T_DSD, startPeriod="2023-12-31") == ["2023", "2023-Q4"]
        # ISO week 2023-W52 is 25-31 December; 2024-W01 starts on 1 January 2024.
        assert periods(served, THA_T_DSD, startPeriod="2023-W52") == ["2023", "2023-Q4"]
        assert status(served, THA_T_DSD, startPeriod="2024-W01") == (204, None)
        assert periods(served, THA_T_DSD, endPeriod="2018-D001") == ["2018"]

    def test_time_period_filter_is_the_same(self, served: Env) -> None:
        both = periods(served, THA_T_DSD, **{"c[TIME_PERIOD]": "ge:2023-Q3"})
        assert both == ["2023", "2023-Q3", "2023-Q4"]
        window = periods(served, THA_T, **{"c[TIME_PERIOD]": "ge:2019+le:2020"})
        assert window == ["2019", "2020"]
        # An unencoded "+" arrives as a space.
        raw = served.client.get(
            THA_T + "?c[TIME_PERIOD]=ge:2019+le:2020", headers={"Accept": CSV20}
        )
        assert sorted(r["TIME_PERIOD"] for r in records(raw)) == ["2019", "2020"]
        strictly = periods(served, THA_T_DSD, **{"c[TIME_PERIOD]": "gt:2023-Q2"})
        assert strictly == ["2023-Q3", "2023-Q4"]  # the annual 2023 starts before Q2 ends
        several = periods(served, THA_T, **{"c[TIME_PERIOD]": "2018,2022"})
        assert several == ["2018", "2022"]

    def test_bad_periods(self, served: Env) -> None:
        assert status(served, A05, startPeriod="2020-Q5") == (400, 140)
        assert status(served, A05, endPeriod="last year") == (400, 140)
        assert status(served, A05, **{"c[TIME_PERIOD]": "ge:soon"}) == (400, 140)


class TestFirstAndLast:
    def test_last_n_per_series(self, served: Env) -> None:
        rows = found(served, lastNObservations=2)
        by_series = {
            key: [r[2] for r in group] for key, group in itertools.groupby(rows, lambda r: r[:2])
        }
        assert by_series == {
            ("MYS", "SEX_F"): ["2020"],
            ("THA", "SEX_F"): ["2019", "2020"],
            ("THA", "SEX_M"): ["2020"],
            ("THA", "SEX_T"): ["2022", "2023"],
            ("VNM", "SEX_T"): ["2020", "2021"],
        }

    def test_last_n_within_a_period_range(self, served: Env) -> None:
        assert periods(served, THA_T, lastNObservations=2, endPeriod="2020") == ["2019", "2020"]
        assert periods(
            served, THA_T, lastNObservations=1, startPeriod="2019", endPeriod="2021"
        ) == ["2021"]

    def test_first_n_and_both(self, served: Env) -> None:
        assert periods(served, THA_T, firstNObservations=2, startPeriod="2019") == ["2019", "2020"]
        both = periods(served, THA_T, firstNObservations=1, lastNObservations=1)
        assert both == ["2018", "2023"]

    def test_per_time_series_whatever_the_packaging(self, served: Env) -> None:
        expected = sorted(found(served, lastNObservations=1))
        for packaging in ("AllDimensions", "REF_AREA", "SEX"):
            got = found(served, lastNObservations=1, dimensionAtObservation=packaging)
            assert sorted(got) == expected, packaging

    def test_after_the_component_filters(self, served: Env) -> None:
        # firstNObservations applies to what the filters keep.
        got = periods(served, THA_T, firstNObservations=1, **{"c[OBS_VALUE]": "gt:2"})
        assert got == ["2020"]


class TestKeys:
    def test_wildcards_mixed_with_or(self, served: Env) -> None:
        rows = found(served, A05 + "/THA+VNM.*.*.SEX_T+SEX_F")
        assert {r[:2] for r in rows} == {("THA", "SEX_T"), ("THA", "SEX_F"), ("VNM", "SEX_T")}
        several = found(served, A05 + "/THA.*.*.SEX_M,MYS,VNM.A.MST_TEMP_NB.SEX_F")
        assert {r[:2] for r in several} == {("THA", "SEX_M"), ("MYS", "SEX_F")}
        v1 = found(served, V1_A05 + "/THA+MYS...SEX_F+SEX_M.......")
        assert {r[:2] for r in v1} == {("THA", "SEX_F"), ("THA", "SEX_M"), ("MYS", "SEX_F")}
        trailing = found(served, A05 + "/VNM")
        assert {r[:2] for r in trailing} == {("VNM", "SEX_T")}

    def test_key_and_filters_combine(self, served: Env) -> None:
        rows = found(served, A05 + "/THA", **{"c[SEX]": "SEX_F,SEX_M"})
        assert {r[:2] for r in rows} == {("THA", "SEX_F"), ("THA", "SEX_M")}


class TestComponentFilters:
    @pytest.mark.parametrize(
        ("value", "areas"),
        [
            ("THA", {"THA"}),
            ("eq:VNM", {"VNM"}),
            ("ne:THA", {"VNM", "MYS"}),
            ("THA,MYS", {"THA", "MYS"}),
            ("lt:THA", {"MYS"}),
            ("le:THA", {"MYS", "THA"}),
            ("gt:THA", {"VNM"}),
            ("ge:THA", {"THA", "VNM"}),
            ("co:N", {"VNM"}),
            ("nc:A", {"VNM", "MYS"}),
            ("sw:M", {"MYS"}),
            ("ew:A", {"THA"}),
            ("ge:MYS+le:THA", {"MYS", "THA"}),
            ("ne:THA+ne:VNM", {"MYS"}),
            ("ne:THA,VNM", {"MYS", "VNM"}),
        ],
    )
    def test_operators_on_a_dimension(self, served: Env, value: str, areas: set[str]) -> None:
        rows = found(served, **{"c[REF_AREA]": value})
        assert {r[0] for r in rows} == areas

    def test_percent_encoded_brackets(self, served: Env) -> None:
        response = served.client.get(A05 + "?c%5BREF_AREA%5D=MYS", headers={"Accept": CSV20})
        assert [r["REF_AREA"] for r in records(response)] == ["MYS"]

    def test_measure_compares_numbers(self, served: Env) -> None:
        assert sorted(r[3] for r in found(served, **{"c[OBS_VALUE]": "gt:9"})) == [
            "10",
            "11",
            "12.5",
            "20",
        ]
        assert [r[3] for r in found(served, **{"c[OBS_VALUE]": "12.50"})] == ["12.5"]

    def test_attributes(self, served: Env) -> None:
        estimated = found(served, **{"c[OBS_STATUS]": "E"})
        assert {r[2] for r in estimated} == {"2019"}
        assert len(estimated) == 3
        missing = found(served, A05 + "/THA.A.MST_TEMP_NB.SEX_T", **{"c[OBS_STATUS]": "ne:E"})
        assert "2019" not in {r[2] for r in missing}
        assert {r[2] for r in found(served, **{"c[SOURCE]": "co:LF"})} >= {"2018", "2023"}

    def test_errors(self, served: Env) -> None:
        assert status(served, A05, **{"c[NOPE]": "1"}) == (400, 140)
        assert status(served, A05, **{"c[REF_AREA]": "xx:THA"}) == (400, 140)
        assert status(served, A05, **{"c[REF_AREA]": "THA,"}) == (400, 140)
        twice = served.client.get(A05 + "?c[SEX]=SEX_T&c[SEX]=SEX_F")
        assert twice.status_code == 400


def consecutive(rows: list[dict[str, str]], key: list[str]) -> bool:
    """Whether rows with the same values of ``key`` are consecutive."""
    seen: set[tuple[str, ...]] = set()
    last: tuple[str, ...] | None = None
    for r in rows:
        current = tuple(r[k] for k in key)
        if current != last:
            if current in seen:
                return False
            seen.add(current)
            last = current
    return True


class TestPackaging:
    def test_cross_section_keeps_series_together(self, served: Env) -> None:
        rows = get_csv(served, A05, dimensionAtObservation="REF_AREA")
        assert consecutive(rows, ["SEX", "TIME_PERIOD"])
        assert len(rows) == sum(len(y) for y in ANNUAL.values()) + 1

    def test_every_packaging_in_json(self, served: Env) -> None:
        for packaging in ("TIME_PERIOD", "REF_AREA", "AllDimensions"):
            response = served.client.get(
                A05, params={"dimensionAtObservation": packaging}, headers={"Accept": JSON20}
            )
            assert response.status_code == 200, (packaging, response.text)
            validate_sdmx_json(response.json(), "data", "2.0")

    def test_generic_cross_section(self, served: Env) -> None:
        response = served.client.get(
            V1_A05,
            params={"dimensionAtObservation": "SEX", "format": "genericdata"},
        )
        assert response.status_code == 200, response.text
        assert 'dimensionAtObservation="SEX"' in response.text

    def test_unknown_dimension(self, served: Env) -> None:
        assert status(served, A05, dimensionAtObservation="OBS_STATUS") == (400, 140)


class TestDetail:
    def test_series_keys_only(self, served: Env) -> None:
        rows = get_csv(served, A05, detail="serieskeysonly")
        assert len(rows) == len(ANNUAL)
        assert "TIME_PERIOD" not in rows[0]
        assert "OBS_VALUE" not in rows[0]

    def test_data_only(self, served: Env) -> None:
        rows = get_csv(served, A05 + "/THA.A.MST_TEMP_NB.SEX_T", detail="dataonly")
        assert "OBS_STATUS" not in rows[0]
        assert [r["OBS_VALUE"] for r in rows] == ["1", "2", "3", "4", "5", "20"]

    def test_no_data(self, served: Env) -> None:
        rows = get_csv(served, A05, detail="nodata")
        assert len(rows) == len(ANNUAL)
        assert "OBS_VALUE" not in rows[0]

    def test_cross_sectional_series_keys(self, served: Env) -> None:
        rows = get_csv(served, A05, detail="serieskeysonly", dimensionAtObservation="REF_AREA")
        series = {(r["SEX"], r["TIME_PERIOD"]) for r in rows}
        assert len(rows) == len(series)


class TestAttributesAndMeasures:
    def test_attributes(self, served: Env) -> None:
        url = A05 + "/THA.A.MST_TEMP_NB.SEX_T"
        none = get_csv(served, url, attributes="none", endPeriod="2019")
        assert [(r["OBS_STATUS"], r["SOURCE"]) for r in none] == [("", ""), ("", "")]
        one = get_csv(served, url, attributes="OBS_STATUS", endPeriod="2019")
        assert [(r["OBS_STATUS"], r["SOURCE"]) for r in one] == [("", ""), ("E", "")]
        obs_level = get_csv(served, url, attributes="obs", endPeriod="2019")
        assert [(r["OBS_STATUS"], r["SOURCE"]) for r in obs_level] == [("", "LFS"), ("E", "LFS")]
        series_level = get_csv(served, url, attributes="series", endPeriod="2019")
        assert {r["SOURCE"] for r in series_level} == {""}  # SOURCE attaches to time too
        assert status(served, url, attributes="NOPE") == (400, 140)

    def test_measures(self, served: Env) -> None:
        rows = get_csv(served, A05 + "/MYS", measures="none")
        assert len(rows) == 1
        assert "OBS_VALUE" not in rows[0]  # no measure column (sdmx-rest data.md: no measure)
        assert rows[0]["TIME_PERIOD"]
        found = served.client.get(A05 + "/MYS", params={"measures": "none"})  # SDMX-JSON 2.0
        assert found.status_code == 200
        validate_sdmx_json(found.content, "data", "2.0")
        structure = found.json()["data"]["structures"][0]
        assert structure["measures"]["observation"] == []
        series = next(iter(found.json()["data"]["dataSets"][0]["series"].values()))
        observation = next(iter(series["observations"].values()))
        slots = structure["attributes"]["observation"]
        assert len(observation) <= len(slots)  # attributes only, by their slots
        assert [r["OBS_VALUE"] for r in get_csv(served, A05 + "/MYS", measures="OBS_VALUE")] == [
            "12.5"
        ]
        assert status(served, A05, measures="NOPE") == (400, 140)


class TestPagingAndSorting:
    def test_offset_and_limit(self, served: Env) -> None:
        every = found(served, limit="100000")  # paging follows key order (general path)
        assert sorted(found(served)) == sorted(every)  # a plain export may list it otherwise
        assert found(served, limit=3) == every[:3]
        assert found(served, offset=2, limit=3) == every[2:5]
        assert found(served, offset=len(every) - 1) == every[-1:]
        assert status(served, A05, offset=len(every)) == (204, None)
        assert status(served, A05, limit="0") == (400, 140)
        assert status(served, A05, offset="-1") == (400, 140)

    def test_sort(self, served: Env) -> None:
        desc = found(served, THA_T, sort="TIME_PERIOD:desc")
        assert [r[2] for r in desc] == ["2023", "2022", "2021", "2020", "2019", "2018"]
        areas = [r[0] for r in found(served, sort="REF_AREA:desc")]
        assert areas == sorted(areas, reverse=True)
        by_value = found(served, THA_T, sort="series_key+OBS_VALUE:desc")
        assert [r[3] for r in by_value] == ["20", "5", "4", "3", "2", "1"]
        flat = found(served, dimensionAtObservation="AllDimensions", sort="TIME_PERIOD+REF_AREA")
        assert [(r[2], r[0]) for r in flat] == sorted((r[2], r[0]) for r in flat)
        changed = found(served, sort="OBS_VALUE:desc", updatedAfter="2000-01-01T00:00:00Z")
        assert sorted(changed) == sorted(found(served))
        assert status(served, A05, sort="NOPE") == (400, 140)
        assert status(served, A05, sort="REF_AREA:sideways") == (400, 140)


class TestProviders:
    def test_v1_provider_ref(self, served: Env) -> None:
        assert {r[0] for r in found(served, "/rest/data/DF_ILMS_A05/all/THA")} == {"THA"}
        both = found(served, "/rest/data/DF_ILMS_A05/all/ILO,THA+VNM")
        assert {r[0] for r in both} == {"THA", "VNM"}
        assert {r[0] for r in found(served, "/rest/data/DF_ILMS_A05/all/all")} == {
            "THA",
            "VNM",
            "MYS",
        }
        assert status(served, "/rest/data/DF_ILMS_A05/all/NOPE") == (404, 100)
        assert status(served, "/rest/data/DF_ILMS_A05/all/a,b,c") == (400, 140)

    def test_provision_agreement(self, served: Env) -> None:
        url = "/rest/v2/data/provisionagreement/ILO/PA_VNM_ILMS_A05/1.0"
        rows = get_csv(served, url)
        assert {r["REF_AREA"] for r in rows} == {"VNM"}
        assert rows[0]["STRUCTURE"] == "dataprovision"
        assert rows[0]["STRUCTURE_ID"] == "ILO:PA_VNM_ILMS_A05(1.0)"

    def test_several_provision_agreements_of_one_dataflow(self, served: Env) -> None:
        url = "/rest/v2/data/provisionagreement/ILO/PA_VNM_ILMS_A05,PA_THA_ILMS_A05/1.0"
        rows = get_csv(served, url)
        assert {r["REF_AREA"] for r in rows} == {"VNM", "THA"}
        assert rows[0]["STRUCTURE"] == "dataflow"  # the answer is the dataflow's, in part
        assert rows[0]["STRUCTURE_ID"] == "ILO:DF_ILMS_A05(1.0)"
        several = "/rest/v2/data/provisionagreement/ILO/PA_VNM_ILMS_A05,PA_THA_ILMS_B09/1.0"
        assert status(served, several) == (501, 501)


class TestV2Paths:
    @pytest.mark.parametrize(
        "path",
        [
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/~",
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/+",
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.*",
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0,2.0",
            "/rest/v2/data/dataflow/*/DF_ILMS_A05/*",
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05",
            "/rest/v2/data/*/ILO/DF_ILMS_A05/1.0",
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0/*",
        ],
    )
    def test_wildcards_naming_one_dataflow(self, served: Env, path: str) -> None:
        assert len(get_csv(served, path)) == len(found(served))

    def test_several_artefacts(self, served: Env) -> None:
        every = served.client.get("/rest/v2/data/*/*/*/*/*", headers={"Accept": CSV20})
        assert every.status_code == 501
        assert "more" in every.text  # a few are named, not all
        assert len(every.content) < 2000
        assert status(served, "/rest/v2/data/dataflow/ILO") == (501, 501)
        assert status(served, "/rest/v2/data/dataflow") == (501, 501)
        assert status(served, "/rest/v2/data/dataflow/ILO/DF_NOPE") == (404, 100)


class TestOtherParameters:
    def test_reporting_year_start_day(self, served: Env) -> None:
        assert len(found(served, reportingYearStartDay="--01-01")) == len(found(served))
        assert status(served, A05, reportingYearStartDay="--07-01") == (501, 501)
        assert status(served, A05, reportingYearStartDay="--02-30") == (400, 140)

    def test_explicit_measure(self, served: Env) -> None:
        assert len(found(served, explicitMeasure="true")) == len(found(served))
        assert status(served, A05, explicitMeasure="maybe") == (400, 140)
