"""Incremental and point-in-time data queries over a sequence of loads, updates and deletes:
``updatedAfter`` at every step returns exactly the changes since (deletions included), ``asOf``
reproduces every earlier state, and ``includeHistory`` returns every version with its
validity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from service.db import make_engine
from service.query.data import DataParams
from service.query.structure import ApiVersion
from service.storage.structures import StructureRepository
from service.usecases.data import data_state, locate_v2, plan_query, run_query
from tests.api.conftest import Env
from tests.api.test_data_query import A05, CSV20, GENERIC21, data_env, records
from tests.api.test_upload import csv as message
from tests.api.test_upload import row
from tests.xsd import validate_sdmx_ml

#: (area, year) -> (OBS_VALUE, OBS_STATUS, SOURCE)
State = dict[tuple[str, str], tuple[str, str, str]]

#: The uploads, in order, and the state each leaves.
STEPS: list[tuple[list[str], State]] = [
    (
        [
            row(year="2019", value="1"),
            row(year="2020", value="2"),
            row(area="VNM", year="2019", value="3"),
        ],
        {
            ("THA", "2019"): ("1", "", "LFS"),
            ("THA", "2020"): ("2", "", "LFS"),
            ("VNM", "2019"): ("3", "", "LFS"),
        },
    ),
    (  # an update and an insert
        [row(year="2020", value="20"), row(year="2021", value="4", status="E")],
        {
            ("THA", "2019"): ("1", "", "LFS"),
            ("THA", "2020"): ("20", "", "LFS"),
            ("THA", "2021"): ("4", "E", "LFS"),
            ("VNM", "2019"): ("3", "", "LFS"),
        },
    ),
    (  # a deletion
        [row(year="2019", value="", source="", action="D")],
        {
            ("THA", "2020"): ("20", "", "LFS"),
            ("THA", "2021"): ("4", "E", "LFS"),
            ("VNM", "2019"): ("3", "", "LFS"),
        },
    ),
    (  # an attribute above observation level changes, the observation does not
        [row(year="2021", value="4", status="E", source="Census")],
        {
            ("THA", "2020"): ("20", "", "LFS"),
            ("THA", "2021"): ("4", "E", "Census"),
            ("VNM", "2019"): ("3", "", "LFS"),
        },
    ),
    (  # a deletion and a re-insertion
        [
            row(area="VNM", year="2019", value="", source="", action="D"),
            row(year="2019", value="5"),
        ],
        {
            ("THA", "2019"): ("5", "", "LFS"),
            ("THA", "2020"): ("20", "", "LFS"),
            ("THA", "2021"): ("4", "E", "Census"),
        },
    ),
]


@dataclass
class Loaded:
    env: Env
    #: instants[k]: after step k (instants[0]: before the first).
    instants: list[dt.datetime]

    @property
    def states(self) -> list[State]:
        return [{}, *(state for _, state in STEPS)]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    tmp: Path = tmp_path_factory.mktemp("data-history")
    with data_env(str(request.param), tmp, "datahistory") as env:
        instants = [dt.datetime.now(dt.UTC)]
        for rows, _ in STEPS:
            response = env.post(message(*rows))
            assert response.status_code == 201, response.text
            instants.append(dt.datetime.now(dt.UTC))
        yield Loaded(env, instants)


def answer(loaded: Loaded, **params: str) -> list[dict[str, str]] | None:
    response = loaded.env.client.get(A05, params=params, headers={"Accept": CSV20})
    if response.status_code == 204:
        return None
    return records(response)


def state_of(rows: list[dict[str, str]] | None) -> State:
    return {
        (r["REF_AREA"], r["TIME_PERIOD"]): (r["OBS_VALUE"], r["OBS_STATUS"], r["SOURCE"])
        for r in rows or ()
    }


def changes(before: State, after: State) -> tuple[State, set[tuple[str, str]], State]:
    """What a harvester holding ``before`` needs to reach ``after``: the observations to
    replace, the observations to delete, and the higher-level attributes (here SOURCE) to
    delete from observations that are otherwise unchanged."""
    replaced: State = {}
    attributes: State = {}
    for key, new in after.items():
        old = before.get(key)
        if old == new:
            continue
        if old is not None and old[:2] == new[:2] and old[2] and not new[2]:
            attributes[key] = ("", "", old[2])
        else:
            replaced[key] = new
            if old is not None and old[2] and not new[2]:
                attributes[key] = ("", "", old[2])
    return replaced, set(before) - set(after), attributes


def split(rows: list[dict[str, str]] | None) -> tuple[State, set[tuple[str, str]], State]:
    replaced = state_of([r for r in rows or () if r["ACTION"] == "R"])
    deleted = [r for r in rows or () if r["ACTION"] == "D"]
    whole = {(r["REF_AREA"], r["TIME_PERIOD"]) for r in deleted if not r["SOURCE"]}
    marked = state_of([r for r in deleted if r["SOURCE"]])
    return replaced, whole, {k: ("", "", v[2]) for k, v in marked.items()}


class TestAsOf:
    def test_every_earlier_state(self, loaded: Loaded) -> None:
        for instant, expected in zip(loaded.instants, loaded.states, strict=True):
            assert state_of(answer(loaded, asOf=instant.isoformat())) == expected, instant

    def test_now_is_the_current_state(self, loaded: Loaded) -> None:
        assert state_of(answer(loaded)) == loaded.states[-1]
        later = loaded.instants[-1] + dt.timedelta(days=1)
        assert state_of(answer(loaded, asOf=later.isoformat())) == loaded.states[-1]

    def test_with_other_parameters(self, loaded: Loaded) -> None:
        at = loaded.instants[2].isoformat()
        rows = answer(loaded, asOf=at, lastNObservations="1")
        assert state_of(rows) == {
            ("THA", "2021"): ("4", "E", "LFS"),
            ("VNM", "2019"): ("3", "", "LFS"),
        }


class TestUpdatedAfter:
    def test_every_step_returns_exactly_the_changes(self, loaded: Loaded) -> None:
        final = loaded.states[-1]
        for instant, before in zip(loaded.instants, loaded.states, strict=True):
            rows = answer(loaded, updatedAfter=instant.isoformat())
            assert split(rows) == changes(before, final), instant
            if before == final:
                assert rows is None  # nothing changed: 204

    def test_between_two_instants_with_as_of(self, loaded: Loaded) -> None:
        states, instants = loaded.states, loaded.instants
        for j in range(len(instants)):
            for k in range(j + 1, len(instants)):
                rows = answer(
                    loaded, updatedAfter=instants[j].isoformat(), asOf=instants[k].isoformat()
                )
                assert split(rows) == changes(states[j], states[k]), (j, k)

    def test_offsets_in_the_parameter(self, loaded: Loaded) -> None:
        instant = loaded.instants[4].astimezone(dt.timezone(dt.timedelta(hours=7)))
        rows = answer(loaded, updatedAfter=instant.isoformat())
        assert split(rows) == changes(loaded.states[4], loaded.states[-1])

    def test_with_filters(self, loaded: Loaded) -> None:
        rows = answer(loaded, updatedAfter=loaded.instants[1].isoformat(), startPeriod="2020")
        replaced, deleted, attributes = split(rows)
        assert set(replaced) == {("THA", "2020"), ("THA", "2021")}
        assert deleted == set()  # VNM 2019 is outside the period
        assert attributes == {}


class TestIncludeHistory:
    def test_versions_with_their_validity(self, loaded: Loaded) -> None:
        t = loaded.instants
        with Session(bind=make_engine(loaded.env.settings)) as session:
            target = locate_v2(
                StructureRepository(session), "dataflow", "ILO", "DF_ILMS_A05", "1.0"
            )
            params = DataParams.parse([("includeHistory", "true")])
            plan = plan_query(target, None, params, ApiVersion.V2)
            parts = run_query(session, plan, data_state(session, plan), cap=1000)
            assert parts is not None
            found = [
                (
                    part.info.action,
                    _step(part.info.valid_from, t),
                    _step(part.info.valid_to, t),
                    sorted(
                        (codes[0], period, value, attrs.get("SOURCE", ""))
                        for codes, period, value, attrs in part.rows
                    ),
                )
                for part in parts
            ]
        assert found == [
            ("R", 1, 2, [("THA", "2020", "2", "LFS")]),
            ("R", 1, 3, [("THA", "2019", "1", "LFS")]),
            ("R", 1, 5, [("VNM", "2019", "3", "LFS")]),
            ("R", 2, None, [("THA", "2020", "20", "LFS")]),
            # step 4 changed SOURCE alone: THA 2021's version stands in two stretches
            ("R", 2, 4, [("THA", "2021", "4", "LFS")]),
            ("D", None, 3, [("THA", "2019", "", "")]),
            ("R", 5, None, [("THA", "2019", "5", "LFS")]),
            ("D", None, 5, [("VNM", "2019", "", "")]),
            ("R", 4, None, [("THA", "2021", "4", "Census")]),
        ]

    def test_history_after_and_as_of(self, loaded: Loaded) -> None:
        t = loaded.instants
        rows = answer(
            loaded, includeHistory="true", updatedAfter=t[2].isoformat(), asOf=t[4].isoformat()
        )
        assert rows is not None
        assert [(r["ACTION"], r["REF_AREA"], r["TIME_PERIOD"], r["SOURCE"]) for r in rows] == [
            ("D", "THA", "2019", ""),
            ("R", "THA", "2021", "Census"),  # step 4 changed its SOURCE alone
        ]

    def test_sdmx_ml_data_sets(self, loaded: Loaded) -> None:
        response = loaded.env.client.get(
            A05, params={"includeHistory": "true"}, headers={"Accept": GENERIC21}
        )
        assert response.status_code == 200, response.text
        validate_sdmx_ml(response.content, "2.1")
        root = etree.fromstring(response.content)
        datasets = root.xpath("//*[local-name()='DataSet']")
        assert [d.get("action") for d in datasets] == [
            "Replace",
            "Replace",
            "Replace",
            "Replace",
            "Replace",
            "Delete",
            "Replace",
            "Delete",
            "Replace",
        ]
        assert all(d.get("validFromDate") for d in datasets if d.get("action") == "Replace")
        assert all(d.get("validToDate") for d in datasets if d.get("action") == "Delete")


def _step(moment: dt.datetime | None, instants: list[dt.datetime]) -> int | None:
    """The step that recorded ``moment``: instants[k - 1] < moment <= instants[k]."""
    if moment is None:
        return None
    return next(k for k in range(1, len(instants)) if instants[k - 1] < moment <= instants[k])


class TestAttributeDeletions:
    """A higher-level attribute value deleted on its own: a Delete row that marks SOURCE, an
    attribute attached to REF_AREA, MEASURE and TIME_PERIOD."""

    def _delete_source(self, env: Env) -> None:
        deletion = row(year="2020", value="", action="D", source="x")
        response = env.post(message(deletion))
        assert response.status_code == 201, response.text[:500]
        counts = response.json()["submission"]["counts"]
        assert (counts["attributes_deleted"], counts["observations_deleted"]) == (1, 0)

    def test_updated_after_marks_them_in_a_delete_data_set(self, env: Env) -> None:
        assert env.post(message(row(year="2019"), row(year="2020"))).status_code == 201
        before = dt.datetime.now(dt.UTC)
        self._delete_source(env)
        response = env.client.get(
            A05, params={"updatedAfter": before.isoformat()}, headers={"Accept": CSV20}
        )
        found = [
            (r["ACTION"], r["TIME_PERIOD"], r["OBS_VALUE"], r["SOURCE"]) for r in records(response)
        ]
        assert found == [("D", "2020", "", "LFS")]
        then = env.client.get(A05, params={"asOf": before.isoformat()}, headers={"Accept": CSV20})
        assert [r["SOURCE"] for r in records(then)] == ["LFS", "LFS"]
        now = env.client.get(A05, headers={"Accept": CSV20})
        assert [r["SOURCE"] for r in records(now)] == ["LFS", ""]
