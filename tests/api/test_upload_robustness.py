"""Uploads against a real server: concurrent writers, and a server killed mid-upload."""

from __future__ import annotations

import itertools
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.db import make_engine
from service.settings import Settings
from service.storage.tables import ObservationRow, SeriesRow, SubmissionRow
from service.storage.tokens import TokenRepository
from tests.conftest import prepare, store_url
from tests.live import launch, stop

CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
HEADER = (
    "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,FREQ,MEASURE,SEX,AGE,EDU,ECO,OCU,STE,CBR,CCT,"
    "TIME_PERIOD,OBS_VALUE\n"
)
MIDDLE = "AGE_AGGREGATE_TOTAL,EDU_ISCED11_TOTAL,ECO_ISIC4_TOTAL,OCU_ISCO08_TOTAL,STE_ICSE93_TOTAL"
FLOW = "/rest/v2/data/dataflow/ILO/DF_ILMS_A03/1.0"


def line(area: str, birth: str, sex: str, year: int, value: float) -> str:
    return (
        f"dataflow,ILO:DF_ILMS_A03(1.0),I,{area},A,MST_FORP_NB,{sex},{MIDDLE},"
        f"{birth},CCT_CIT_TOTAL,{year},{value}\n"
    )


def births(settings: Settings) -> list[str]:
    """Country-of-birth codes the A03 constraint allows (from the store)."""
    from service.storage.structures import StructureRepository
    from service.usecases.flows import resolve_flow

    with Session(make_engine(settings)) as session:
        flow = resolve_flow(StructureRepository(session), "ILO", "DF_ILMS_A03", "1.0")
    allowed = next(c.allowed_codes("CBR") for c in flow.constraints if c.allowed_codes("CBR"))
    assert allowed is not None
    return [c for c in allowed if c.startswith("CBR_BRT_") and c != "CBR_BRT_TOTAL"]


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    settings = prepare(store_url(str(request.param), tmp_path, "robust"))
    with Session(make_engine(settings)) as session:
        token, _ = TokenRepository(session).create(provider=None, is_admin=True)
        session.commit()
    proc, base = launch(settings.database_url, tmp_path / "server.log")
    try:
        yield Live(base, token, settings, proc)
    finally:
        stop(proc)


@dataclass
class Live:
    base: str
    token: str
    settings: Settings
    proc: subprocess.Popen[bytes]


def count(settings: Settings, table: type) -> int:
    with Session(make_engine(settings)) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_concurrent_uploads_to_the_same_series_leave_a_consistent_history(
    live: Live,
) -> None:
    base, token, settings = live.base, live.token, live.settings
    codes = births(settings)[:40]
    shared = line("THA", codes[0], "SEX_T", 2020, 1.0)
    bodies = []
    for n, area in enumerate(("THA", "VNM"), start=1):
        rows = [
            line(area, c, s, y, n)
            for c, s, y in itertools.product(codes[1:], ("SEX_M",), range(2010, 2025))
        ]
        bodies.append((HEADER + shared.replace("1.0\n", f"{n}.0\n") + "".join(rows)).encode())
    headers = {"Content-Type": CSV20, "Authorization": f"Bearer {token}"}

    def post(body: bytes) -> httpx.Response:
        return httpx.post(base + FLOW, content=body, headers=headers, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post, bodies))
    assert [r.status_code for r in responses] == [201, 201], [r.text[:300] for r in responses]
    with Session(make_engine(settings)) as session:
        versions = session.execute(
            text(
                "SELECT o.value, o.submission_pk FROM observation o JOIN series s "
                "ON s.pk = o.series_pk WHERE s.series_key LIKE 'THA.A.MST_FORP_NB.SEX_T.%' "
                "AND o.time_period = '2020' ORDER BY o.pk"
            )
        ).all()
        current = session.execute(
            text(
                "SELECT c.value FROM observation_current c JOIN series s ON s.pk = c.series_pk "
                "WHERE s.series_key LIKE 'THA.A.MST_FORP_NB.SEX_T.%' AND c.time_period = '2020'"
            )
        ).all()
    # both versions kept, one per submission, and the current value is the last one applied
    assert sorted(v[0] for v in versions) == [1.0, 2.0]
    assert len({v[1] for v in versions}) == 2
    assert [c[0] for c in current] == [versions[-1][0]]
    assert count(settings, ObservationRow) == 2 + 2 * 39 * 15


def test_a_server_killed_mid_upload_leaves_no_partial_data(live: Live, tmp_path: Path) -> None:
    base, token, settings = live.base, live.token, live.settings
    codes = births(settings)
    areas = ["THA", "VNM", "IDN", "MYS", "PHL", "KHM", "LAO", "MMR", "SGP", "BRN"]
    sent = threading.Event()

    def body() -> Iterator[bytes]:
        yield HEADER.encode()
        chunk: list[str] = []
        for area, birth, sex, year in itertools.product(
            areas, codes, ("SEX_M", "SEX_F"), range(2010, 2025)
        ):
            chunk.append(line(area, birth, sex, year, 3.5))
            if len(chunk) == 5000:
                yield "".join(chunk).encode()
                chunk = []
        yield "".join(chunk).encode()
        sent.set()

    headers = {"Content-Type": CSV20, "Authorization": f"Bearer {token}"}
    proc_holder: dict[str, object] = {}

    def upload() -> None:
        try:
            proc_holder["response"] = httpx.post(
                base + FLOW, content=body(), headers=headers, timeout=120
            )
        except httpx.HTTPError as exc:
            proc_holder["error"] = exc

    worker = threading.Thread(target=upload)
    worker.start()
    assert sent.wait(60), "the body was never fully sent"
    # the body is in (~140,000 rows): give the server half a second to be validating and
    # staging (it needs several), then kill it outright
    time.sleep(0.5)
    assert "response" not in proc_holder, "the upload finished before the kill: test is moot"
    live.proc.send_signal(signal.SIGKILL)
    live.proc.wait(10)
    worker.join(60)
    assert "response" not in proc_holder or proc_holder["response"].status_code != 201  # type: ignore[union-attr]
    assert count(settings, ObservationRow) == 0
    assert count(settings, SeriesRow) == 0
    assert count(settings, SubmissionRow) == 0
    if settings.is_sqlite:
        with Session(make_engine(settings)) as session:
            assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    # the store still works: a new server accepts a new upload
    proc, new_base = launch(settings.database_url, tmp_path / "again.log")
    try:
        small = (HEADER + line("THA", codes[0], "SEX_T", 2020, 1.0)).encode()
        response = httpx.post(new_base + FLOW, content=small, headers=headers, timeout=60)
        assert response.status_code == 201, response.text
    finally:
        stop(proc)
