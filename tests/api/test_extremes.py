"""Extreme periods, instants and integers on both stores: an accepted TIME_PERIOD of 9999,
year-9999 query periods, ``updatedAfter``/``asOf``/``since`` whose offset moves them out of
years 1 to 9999, huge submission ids and offsets, and non-numbers compared with a numeric
measure. Each answers as the data dictate (200, 204, 404) or 400, never 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.api.conftest import Env
from tests.api.test_availability import answer
from tests.api.test_data_query import A05, CSV20, V1_A05, error_code, get_csv
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.xsd import validate_sdmx_ml

V1_AVAILABILITY = "/rest/availableconstraint/ILO,DF_ILMS_A05,1.0"
V2_AVAILABILITY = "/rest/v2/availability/dataflow/ILO/DF_ILMS_A05/1.0"
#: Every dimension of the key of ``row()``'s series (v1 keys name them all).
THA = "THA.A.MST_TEMP_NB.SEX_T......."
SUBMISSIONS = "/rest/v2/submissions"


def periods(found: list[dict[str, str]]) -> list[str]:
    return sorted(r["TIME_PERIOD"] for r in found)


def get(env: Env, url: str, **params: str) -> Any:
    return env.client.get(url, params=params, headers={"Accept": CSV20})


@pytest.fixture
def year_9999(env: Env) -> Env:
    """2020 and 9999 (a valid SDMX year) in one series."""
    posted = env.post(message(row(year="2020", value="1"), row(year="9999", value="2")))
    assert posted.status_code == 201, posted.text
    return env


class TestYear9999Data:
    """A1: once a provider uploaded 9999, the dataflow's queries still answer."""

    def test_availability_v1_and_v2(self, year_9999: Env) -> None:
        assert answer(year_9999, V1_AVAILABILITY).time == ("2020", "9999")
        assert answer(year_9999, V2_AVAILABILITY).time == ("2020", "9999")
        found = answer(year_9999, V2_AVAILABILITY, **{"c[TIME_PERIOD]": "ge:2024"})
        assert (found.time, found.observations) == (("9999", "9999"), 1)

    def test_start_period_and_last_observations(self, year_9999: Env) -> None:
        assert periods(get_csv(year_9999, f"{V1_A05}/{THA}", startPeriod="2020")) == [
            "2020",
            "9999",
        ]
        assert periods(get_csv(year_9999, f"{V1_A05}/{THA}", startPeriod="9999-12-31")) == ["9999"]
        assert periods(get_csv(year_9999, f"{V1_A05}/{THA}", lastNObservations="1")) == ["9999"]
        assert periods(get_csv(year_9999, f"{V1_A05}/{THA}", firstNObservations="1")) == ["2020"]

    def test_time_period_filters(self, year_9999: Env) -> None:
        assert periods(get_csv(year_9999, A05 + "/THA", **{"c[TIME_PERIOD]": "ge:2024"})) == [
            "9999"
        ]
        found = get_csv(year_9999, A05 + "/THA", **{"c[TIME_PERIOD]": "eq:9999-12-31T23:00:00"})
        assert periods(found) == ["9999"]
        assert periods(get_csv(year_9999, A05, **{"c[TIME_PERIOD]": "lt:9999-W52"})) == ["2020"]

    def test_deleted_9999_in_the_history(self, env: Env) -> None:
        posted = env.post(message(row(year="2020", value="1"), row(year="9999", value="2")))
        assert posted.status_code == 201, posted.text
        before = dt.datetime.now(dt.UTC).isoformat()  # 9999 recorded, not yet deleted
        deleted = env.post(message(row(year="9999", value="", source="", action="D")))
        assert deleted.status_code == 201, deleted.text
        assert periods(get_csv(env, A05, startPeriod="2020")) == ["2020"]
        # the history keeps the version of 9999
        assert periods(get_csv(env, A05, startPeriod="2020", asOf=before)) == ["2020", "9999"]
        changes = get_csv(env, A05, startPeriod="2020", updatedAfter=before)
        assert [(r["TIME_PERIOD"], r["ACTION"]) for r in changes] == [("9999", "D")]
        history = get_csv(env, A05, startPeriod="2020", includeHistory="true")
        assert "9999" in periods(history)


class TestYear9999QueryPeriods:
    """A3: a query period in year 9999 is a valid period, not a crash."""

    @pytest.mark.parametrize(
        "start", ["9999", "9999-Q4", "9999-12", "9999-W52", "9999-D365", "9999-S2", "9999-12-31"]
    )
    def test_start_period_without_data_there(self, env: Env, start: str) -> None:
        env.post(message(row(year="2020")))
        # no data there: v1 answers 404, v2 204
        assert get(env, f"{V1_A05}/{THA}", startPeriod=start).status_code == 404
        assert get(env, A05, startPeriod=start).status_code == 204
        assert get(env, A05, **{"c[TIME_PERIOD]": f"ge:{start}"}).status_code == 204

    def test_end_period_and_availability(self, env: Env) -> None:
        env.post(message(row(year="2020")))
        assert periods(get_csv(env, f"{V1_A05}/{THA}", endPeriod="9999-12-31")) == ["2020"]
        assert periods(get_csv(env, A05, endPeriod="9999-12-31T23:59:59-14:00")) == ["2020"]
        none = env.client.get(V1_AVAILABILITY + "/all", params={"startPeriod": "9999-12-31"})
        assert none.status_code == 404, none.text
        filtered = env.client.get(
            V2_AVAILABILITY + "/*", params={"c[TIME_PERIOD]": "ge:9999-12-31"}
        )
        assert filtered.status_code == 204, filtered.text

    @pytest.mark.parametrize("start", ["0000", "10000"])
    def test_years_0000_and_10000_stay_400(self, env: Env, start: str) -> None:
        response = get(env, A05, startPeriod=start)
        assert response.status_code == 400
        assert error_code(response) == 140


class TestInstantsBeyondYears:
    """A4: offsets that move updatedAfter, asOf or since before year 1 or after year 9999
    clamp to the first or last instant: nothing is recorded beyond them."""

    def test_data_and_availability(self, env: Env) -> None:
        env.post(message(row(year="2020")))
        url = f"{V1_A05}/{THA}"
        for name, value in (
            ("updatedAfter", "0001-01-01T00:00:00+14:00"),
            ("updatedAfter", "0001-01-01T00:00:00+01:00"),
            ("asOf", "9999-12-31T23:59:59-14:00"),
        ):
            assert periods(get_csv(env, url, **{name: value})) == ["2020"], (name, value)
            assert periods(get_csv(env, A05, **{name: value})) == ["2020"], (name, value)
        found = answer(env, V2_AVAILABILITY, updatedAfter="0001-01-01T00:00:00+01:00")
        assert found.observations == 1
        later = get(env, A05, updatedAfter="9999-12-31T23:59:59-14:00")
        assert later.status_code == 204, later.text

    def test_submissions_since_and_until(self, env: Env) -> None:
        assert env.post(message(row(year="2020"))).status_code == 201
        admin = {"Authorization": f"Bearer {env.admin}"}

        def listed(**params: str) -> list[int]:
            found = env.client.get(SUBMISSIONS, params=params, headers=admin)
            assert found.status_code == 200, found.text
            return [s["id"] for s in found.json()["submissions"]]

        everything = listed()
        assert len(everything) == 1
        assert listed(since="9999-12-31T23:59:59-01:00") == []
        assert listed(since="0001-01-01T00:00:00+14:00") == everything
        assert listed(until="9999-12-31T23:59:59-14:00") == everything
        assert listed(until="0001-01-01T00:00:00+14:00") == []


class TestHugeIntegers:
    """A6: ids and offsets beyond what the stores hold."""

    @pytest.mark.parametrize(
        "pk",
        [
            "99999999999999999999999",
            str(2**63),
            str(2**63 - 1),
            str(2**40),
            str(2**31),  # beyond PostgreSQL's INTEGER
            str(2**31 - 1),
            "-" + str(2**70),
        ],
    )
    def test_submission_id(self, env: Env, pk: str) -> None:
        response = env.client.get(
            f"{SUBMISSIONS}/{pk}", headers={"Authorization": f"Bearer {env.admin}"}
        )
        assert response.status_code == 404, response.text

    def test_offset(self, env: Env) -> None:
        admin = {"Authorization": f"Bearer {env.admin}"}
        for huge in ("99999999999999999999999", str(2**63)):
            response = env.client.get(SUBMISSIONS, params={"offset": huge}, headers=admin)
            assert response.status_code == 400, response.text
        largest = env.client.get(SUBMISSIONS, params={"offset": str(2**63 - 1)}, headers=admin)
        assert largest.status_code == 200, largest.text
        assert largest.json()["submissions"] == []


class TestNumericMeasureFilters:
    """D3: OBS_VALUE holds numbers; comparing it with a non-number is a mistake (400)."""

    @pytest.mark.parametrize(
        "condition", ["gt:abc", "gt:nan", "lt:inf", "ge:-Infinity", "le:1,ge:x", "eq:abc", "abc"]
    )
    def test_not_a_number(self, env: Env, condition: str) -> None:
        env.post(message(row(year="2020", value="10.5")))
        for url in (A05, f"{V1_A05}/{THA}"):
            response = get(env, url, **{"c[OBS_VALUE]": condition})
            assert response.status_code == 400, (url, response.text)
            assert error_code(response) == 140
            assert "OBS_VALUE" in response.text

    def test_numbers_and_texts(self, env: Env) -> None:
        env.post(message(row(year="2019", value="9"), row(year="2020", value="10.5")))
        assert periods(get_csv(env, A05, **{"c[OBS_VALUE]": "gt:10"})) == ["2020"]
        assert periods(get_csv(env, A05, **{"c[OBS_VALUE]": "le:9e0"})) == ["2019"]
        assert periods(get_csv(env, A05, **{"c[OBS_VALUE]": "ne:10.5"})) == ["2019"]
        # co, nc, sw and ew compare the value as text: any operand is a valid one
        assert periods(get_csv(env, A05, **{"c[OBS_VALUE]": "co:.5"})) == ["2020"]
        assert get(env, A05, **{"c[OBS_VALUE]": "sw:abc"}).status_code == 204


class TestInfiniteValues:
    """OBS_VALUE is an xs:double, which holds INF and -INF; 1e309 is one too (it overflows).
    They are written as xs:double spells them, so the service's own download reads back in
    (a newcomer found ``inf`` served, and refused on re-upload)."""

    def test_served_as_xs_double_and_read_back(self, env: Env) -> None:
        sent = message(
            row(year="2018", value="1e309"), row(year="2019", value="-INF"), row(year="2020")
        )
        assert env.post(sent).status_code == 201
        values = {r["TIME_PERIOD"]: r["OBS_VALUE"] for r in get_csv(env, A05)}
        assert values == {"2018": "INF", "2019": "-INF", "2020": "10.5"}
        generic = env.client.get(
            A05, headers={"Accept": "application/vnd.sdmx.genericdata+xml;version=2.1"}
        )
        assert generic.status_code == 200
        validate_sdmx_ml(generic.content, "2.1")  # ObsValue is an xs:double there
        assert b'<generic:ObsValue value="INF"/>' in generic.content
        downloaded = env.client.get(A05, headers={"Accept": CSV20}).content
        again = env.post(downloaded)
        assert again.status_code == 201, again.text[:300]
        assert again.json()["submission"]["counts"]["observations_unchanged"] == 3
