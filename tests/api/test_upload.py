"""Data upload over HTTP: validation, actions, history, atomicity, tokens, on both stores."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.main import create_app
from service.storage.tables import ObservationRow, SubmissionRow
from tests.api.conftest import CSV20, FLOW, Env

HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,FREQ,MEASURE,SEX,AGE,EDU,ECO,OCU,STE,CBR,CCT,"
    "TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MEASURE,SOURCE"
)
TOTALS = "AGE_AGGREGATE_TOTAL,EDU_ISCED11_TOTAL,{eco},OCU_ISCO08_TOTAL,STE_ICSE93_TOTAL"


def row(
    area: str = "THA",
    sex: str = "SEX_T",
    eco: str = "ECO_ISIC4_TOTAL",
    year: str = "2020",
    value: str = "10.5",
    action: str = "I",
    status: str = "",
    source: str = "LFS",
) -> str:
    middle = TOTALS.format(eco=eco)
    return (
        f"dataflow,ILO:DF_ILMS_A05(1.0),{action},{area},A,MST_TEMP_NB,{sex},{middle},"
        f"CBR_BIR_FOREIGN,CCT_CIT_TOTAL,{year},{value},{status},,{source}"
    )


def csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def problems(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["submission"]["validation"]["problems"])


class TestAccepted:
    def test_insert_then_unchanged_then_update(self, env: Env) -> None:
        first = env.post(csv(row(year="2019"), row(year="2020")))
        assert first.status_code == 201, first.text
        counts = first.json()["submission"]["counts"]
        assert counts["observations_inserted"] == 2
        assert first.headers["location"].startswith("/rest/v2/submissions/")
        again = env.post(csv(row(year="2019"), row(year="2020")))
        assert again.json()["submission"]["counts"]["observations_unchanged"] == 2
        changed = env.post(csv(row(year="2020", value="11")))
        assert changed.json()["submission"]["counts"]["observations_updated"] == 1
        values = {(r[1], r[2]) for r in env.current()}
        assert values == {("2019", 10.5), ("2020", 11.0)}
        # every accepted version is kept, with the submission that made it
        versions = [(r[1], r[2]) for r in env.history() if r[1] == "2020"]
        assert versions == [("2020", 10.5), ("2020", 11.0)]

    def test_series_attribute_stored_once_at_its_level(self, env: Env) -> None:
        env.post(csv(row(year="2019"), row(year="2020", source="Census")))
        attrs = env.attributes()
        sources = {(key, value) for attr, key, value in attrs if attr == "SOURCE"}
        # SOURCE attaches to REF_AREA + MEASURE + TIME_PERIOD
        assert ("THA..MST_TEMP_NB........@2019", "LFS") in sources
        assert ("THA..MST_TEMP_NB........@2020", "Census") in sources

    def test_gzip_body(self, env: Env) -> None:
        response = env.post(gzip.compress(csv(row())), headers={"Content-Encoding": "gzip"})
        assert response.status_code == 201, response.text

    def test_dry_run_writes_nothing_but_says_what_would_change(self, env: Env) -> None:
        response = env.post(csv(row()), url=FLOW + "?dryRun=true")
        assert response.status_code == 200
        body = response.json()["submission"]
        assert body["status"] == "dry_run"
        assert body["counts"]["observations_inserted"] == 1
        assert env.current() == []

    def test_provider_within_scope(self, env: Env) -> None:
        assert env.post(csv(row()), token=env.tha).status_code == 201


class TestActions:
    def test_append_keeps_what_it_leaves_out(self, env: Env) -> None:
        env.post(csv(row(status="E")))
        env.post(csv(row(value="12")))
        (_, _, value, _, attrs) = env.current()[0]
        assert value == 12.0
        assert json.loads(attrs) == {"OBS_STATUS": "E"}

    def test_replace_replaces_the_observation_whole(self, env: Env) -> None:
        env.post(csv(row(status="E")))
        env.post(csv(row(value="12", action="R")))
        (_, _, value, _, attrs) = env.current()[0]
        assert value == 12.0
        assert attrs is None

    def test_delete_one_observation_is_a_tombstone(self, env: Env) -> None:
        env.post(csv(row(year="2019"), row(year="2020")))
        response = env.post(csv(row(year="2020", value="", source="", action="D")))
        assert response.json()["submission"]["counts"]["observations_deleted"] == 1
        assert [r[1] for r in env.current()] == ["2019"]
        assert [r[4] for r in env.history() if r[1] == "2020"] == [False, True]

    def test_delete_a_whole_series(self, env: Env) -> None:
        env.post(csv(row(year="2019"), row(year="2020"), row(sex="SEX_M")))
        series = row(year="", value="", source="", action="D")
        response = env.post(csv(series))
        assert response.status_code == 201, response.text
        assert response.json()["submission"]["counts"]["observations_deleted"] == 2
        assert {r[0].split(".")[3] for r in env.current()} == {"SEX_M"}

    def test_delete_with_a_wildcard(self, env: Env) -> None:
        env.post(csv(row(sex="SEX_M"), row(sex="SEX_F"), row(area="VNM")))
        wildcard = row(sex="", year="", value="", source="", action="D")
        response = env.post(csv(wildcard))
        assert response.status_code == 201, response.text
        assert {r[0].split(".")[0] for r in env.current()} == {"VNM"}

    def test_delete_only_an_attribute(self, env: Env) -> None:
        env.post(csv(row(status="E")))
        env.post(csv(row(value="", status="-", source="", action="D")))
        (_, _, value, _, attrs) = env.current()[0]
        assert value == 10.5
        assert attrs is None


class TestRejected:
    def test_one_bad_row_writes_nothing(self, env: Env) -> None:
        response = env.post(csv(row(year="2019"), row(eco="ECO_ISIC4_NOPE"), row(year="2021")))
        assert response.status_code == 422
        found = problems(response)
        assert [p["rule"] for p in found] == ["code_not_in_codelist"]
        assert found[0]["location"] == "row 3"
        assert response.json()["errors"][0]["code"] == 150
        assert env.current() == []
        assert env.count(ObservationRow) == 0

    def test_duplicates(self, env: Env) -> None:
        response = env.post(csv(row(), row(value="3")))
        assert response.status_code == 422
        assert [p["rule"] for p in problems(response)] == ["duplicate_observation"]

    @pytest.mark.parametrize(
        ("changed", "rule"),
        [
            ({"year": "2020-13"}, "bad_time_period"),
            ({"year": "2020-Q1"}, "period_frequency_mismatch"),
            ({"value": "12a"}, "not_a_number"),
            ({"value": ""}, "missing_value_without_status"),
            ({"eco": "ECO_ISIC3_A"}, "code_not_allowed"),
        ],
    )
    def test_specific_rules(self, env: Env, changed: dict[str, str], rule: str) -> None:
        response = env.post(csv(row(**changed)))
        assert response.status_code == 422
        assert rule in {p["rule"] for p in problems(response)}

    def test_provider_out_of_scope(self, env: Env) -> None:
        response = env.post(csv(row(area="MYS")), token=env.tha)
        assert response.status_code == 422
        assert problems(response)[0]["rule"] == "provider_area_not_allowed"

    def test_unknown_dataflow(self, env: Env) -> None:
        response = env.post(csv(row()), url="/rest/v2/data/dataflow/ILO/DF_NOPE/1.0")
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == 100

    def test_wrong_content_type(self, env: Env) -> None:
        response = env.post(csv(row()), content_type="application/pdf")
        assert response.status_code == 415

    def test_unreadable_body(self, env: Env) -> None:
        response = env.post(b'STRUCTURE,STRUCTURE_ID\n\x00\xff\xfe garbage,"unclosed\n')
        assert response.status_code == 400
        assert env.count(ObservationRow) == 0

    def test_truncated_gzip(self, env: Env) -> None:
        body = gzip.compress(csv(row()))[:-12]
        response = env.post(body, headers={"Content-Encoding": "gzip"})
        assert response.status_code == 400
        assert "truncated" in response.text

    def test_oversized_body(self, env: Env) -> None:
        env.settings.max_upload_bytes = 100
        try:
            app = create_app(env.settings)
            with TestClient(app) as client:
                response = client.post(
                    FLOW,
                    content=csv(row()),
                    headers={"Content-Type": CSV20, "Authorization": f"Bearer {env.admin}"},
                )
        finally:
            env.settings.max_upload_bytes = 2 * 1024**3
        assert response.status_code == 413

    def test_no_token_and_bad_token(self, env: Env) -> None:
        assert env.post(csv(row()), token="").status_code == 401
        assert env.post(csv(row()), token="ilms_not-a-real-token").status_code == 401

    def test_every_attempt_is_recorded(self, env: Env) -> None:
        env.post(csv(row()))
        env.post(csv(row(eco="ECO_ISIC4_NOPE")))
        with env.session() as session:
            statuses = list(
                session.scalars(select(SubmissionRow.status).order_by(SubmissionRow.pk))
            )
        assert statuses == ["accepted", "rejected"]


class TestSubmissions:
    def test_record_and_list(self, env: Env) -> None:
        created = env.post(csv(row()), token=env.tha)
        location = created.headers["location"]
        auth = {"Authorization": f"Bearer {env.tha}"}
        record = env.client.get(location, headers=auth).json()
        assert record["provider"] == "ILO:THA"
        assert record["status"] == "accepted"
        assert len(record["contentSha256"]) == 64
        env.post(csv(row(area="VNM")))  # by the admin
        mine = env.client.get("/rest/v2/submissions", headers=auth).json()["submissions"]
        assert [s["provider"] for s in mine] == ["ILO:THA"]
        admin = {"Authorization": f"Bearer {env.admin}"}
        everyone = env.client.get("/rest/v2/submissions", headers=admin).json()["submissions"]
        assert len(everyone) == 2
        other = env.client.get(f"/rest/v2/submissions/{everyone[0]['id']}", headers=auth)
        assert other.status_code == 403

    def test_instants_carry_their_offset_and_filters_honour_it(self, env: Env) -> None:
        """On every store: instants shown in UTC with their offset; since/until given with any
        offset (or none: UTC) select by the instant, not by its clock reading."""
        env.post(csv(row()))
        admin = {"Authorization": f"Bearer {env.admin}"}
        [record] = env.client.get("/rest/v2/submissions", headers=admin).json()["submissions"]
        received = dt.datetime.fromisoformat(record["receivedAt"])
        assert received.utcoffset() == dt.timedelta(0)
        before, after = received - dt.timedelta(minutes=30), received + dt.timedelta(minutes=30)

        def ids(**params: str) -> list[int]:
            found = env.client.get("/rest/v2/submissions", params=params, headers=admin)
            assert found.status_code == 200, found.text
            return [s["id"] for s in found.json()["submissions"]]

        plus7 = dt.timezone(dt.timedelta(hours=7))
        assert ids(since=before.astimezone(plus7).isoformat()) == [record["id"]]
        assert ids(since=after.astimezone(plus7).isoformat()) == []
        assert ids(until=after.astimezone(plus7).isoformat()) == [record["id"]]
        assert ids(until=before.astimezone(plus7).isoformat()) == []
        naive = before.replace(tzinfo=None).isoformat()
        assert ids(since=naive, until=after.isoformat()) == [record["id"]]
