"""A newcomer's run against the live service: sdmx1, pysdmx and plain HTTP on a store holding data.

The other conformance tests read structures only. Here a small data set is pushed over HTTP
(SDMX-CSV 2.0, a provider's token), then changed (one value updated, one observation deleted),
and read back the way someone who knows SDMX and its usual clients would: sdmx1 with a custom
source (REST v1 and v2), pysdmx's query builder and readers, and raw requests with the
encodings clients really send (``+`` left unencoded, brackets percent-encoded); the README's
sdmx1 example is run as written (issue 4, section 7).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sdmx
import sdmx.reader.xml.v30  # noqa: F401 - see test_sdmx1_rest_v2_data
from pysdmx.api.dc.query._model import MultiFilter, NumberFilter, Operator, TextFilter
from pysdmx.api.qb import ApiVersion, DataQuery, RestService
from pysdmx.api.qb.data import DataContext
from pysdmx.io import read_sdmx
from pysdmx.io.format import DataFormat
from sqlalchemy.orm import Session

from service.db import make_engine
from service.settings import PROJECT_ROOT
from service.storage.tokens import TokenRepository
from tests.api.upload_helpers import A05_TOTALS, series_key
from tests.api.upload_helpers import STOCK_DIMENSIONS as DIMS
from tests.conftest import prepare, store_url
from tests.live import launch, stop

pytestmark = pytest.mark.conformance

FLOW = "DF_ILMS_A05"
UPLOAD = f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0"
CSV20 = "application/vnd.sdmx.data+csv;version=2.0.0"
TOTALS = A05_TOTALS
SEXES = ("SEX_F", "SEX_M", "SEX_T")
ECOS = ("ECO_ISIC4_A", "ECO_ISIC4_B", "ECO_ISIC4_TOTAL")
BIRTHS = ("CBR_BIR_FOREIGN", "CBR_BIR_NATIVE", "CBR_BIR_TOTAL")
YEARS = tuple(str(y) for y in range(2020, 2025))
CHANGED = ("SEX_F", "ECO_ISIC4_A", "CBR_BIR_FOREIGN")  # 2024 updated to 999.5
DELETED = ("SEX_M", "ECO_ISIC4_A", "CBR_BIR_FOREIGN")  # 2024 deleted
SERIES = len(SEXES) * len(ECOS) * len(BIRTHS)
ALL_THA = "THA" + "." * (len(DIMS) - 1)


def _key(sex: str, eco: str, cbr: str) -> dict[str, str]:
    return {"REF_AREA": "THA", **TOTALS, "SEX": sex, "ECO": eco, "CBR": cbr}


def _value(index: int, year: str) -> str:
    return f"{100 + 7 * index + int(year) - 2020}.5"


def _rows() -> list[dict[str, str]]:
    """The observations first pushed: every series of the cross product, 2020-2024."""
    rows = []
    combos = [(s, e, c) for s in SEXES for e in ECOS for c in BIRTHS]
    for index, combo in enumerate(combos):
        for year in YEARS:
            rows.append(
                {
                    "ACTION": "I",
                    **_key(*combo),
                    "TIME_PERIOD": year,
                    "OBS_VALUE": _value(index, year),
                    "OBS_STATUS": "P" if year == "2024" else "",
                    "UNIT_MEASURE_TYPE": "NB",
                    "UNIT_MEASURE": "PS",
                    "UNIT_MULT": "3",
                    "SOURCE": "NEWCOMER FIXTURE",
                    "DECIMALS": "1",
                }
            )
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    columns = ["STRUCTURE", "STRUCTURE_ID", *rows[0]]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"STRUCTURE": "dataflow", "STRUCTURE_ID": f"ILO:{FLOW}(1.0)", **row})
    return out.getvalue().encode()


def _change() -> list[dict[str, str]]:
    """The second push: one value updated, one observation deleted."""
    return [
        {"ACTION": "I", **_key(*CHANGED), "TIME_PERIOD": "2024", "OBS_VALUE": "999.5"},
        {"ACTION": "D", **_key(*DELETED), "TIME_PERIOD": "2024", "OBS_VALUE": ""},
    ]


@dataclass(frozen=True)
class Live:
    """A server holding the fixture data, and what a client needs to talk to it."""

    base: str
    kind: str
    provider_token: str
    between: dt.datetime  # after the first push, before the change

    @property
    def rest(self) -> str:
        return f"{self.base}/rest"


def _prepare_with_token(url: str) -> str:
    """Migrate the store and load the shipped structures (as ``ilms serve`` does); return a
    token for the provider ILO:THA, made as ``ilms token create`` does."""
    engine = make_engine(prepare(url))
    try:
        with Session(engine) as session:
            token, _ = TokenRepository(session).create(provider="ILO:THA", is_admin=False)
            session.commit()
    finally:
        engine.dispose()
    return token


def _push(base: str, token: str, rows: list[dict[str, str]]) -> None:
    response = httpx.post(
        base + UPLOAD,
        content=_csv(rows),
        headers={"Authorization": f"Bearer {token}", "Content-Type": CSV20},
        timeout=60.0,
    )
    assert response.status_code == 201, response.text[:1000]


@pytest.fixture(scope="module")
def live(store_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp(f"newcomer-{store_kind}")
    url = store_url(store_kind, folder, "newcomer")
    token = _prepare_with_token(url)
    proc, base = launch(url, folder / "server.log")
    try:
        _push(base, token, _rows())
        between = dt.datetime.now(dt.UTC)
        _push(base, token, _change())
        yield Live(base=base, kind=store_kind, provider_token=token, between=between)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def http(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base, timeout=60.0) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_client_cache() -> Iterator[None]:
    yield
    sdmx.Client.cache.clear()


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:500]
    return list(csv.DictReader(io.StringIO(response.text)))


def current(year_from: str = "2020") -> int:
    """How many observations the fixture holds from ``year_from`` on (after the change)."""
    kept = [y for y in YEARS if y >= year_from]
    return SERIES * len(kept) - (1 if "2024" in kept else 0)


def error_code(response: httpx.Response) -> int:
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    found = re.search(r'ErrorMessage code="(\d+)"', response.text)
    assert found is not None, response.text[:300]
    return int(found[1])


# --- The README, as a newcomer reads it --------------------------------------------------------


def _readme_sdmx1_snippets() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Reading with sdmx1", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "README: no python block under 'Reading with sdmx1'"
    return list(found)


def test_readme_sdmx1_examples_run(live: Live) -> None:
    """The README's sdmx1 snippets (REST v1, then v2), pointed at this server, run in one
    process as a newcomer pastes them, and read the DSD and the data they ask for."""
    namespace: dict[str, Any] = {}
    for code in _readme_sdmx1_snippets():
        code = code.replace("http://127.0.0.1:8000", live.base)
        sources = re.findall(r'"id": "(\w+)"', code)
        for source in sources:
            sdmx.source.sources.pop(source, None)
        try:
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        finally:
            for source in sources:
                sdmx.source.sources.pop(source, None)
        assert len(sdmx.to_pandas(namespace["data"])) > 0
    assert "DSD_ILMS_STOCK" in namespace["msg"].structure
    assert namespace["dsd"].id == "DSD_ILMS_STOCK"


# --- sdmx1 ---------------------------------------------------------------------------------------


ML21_DATA = [
    "application/vnd.sdmx.genericdata+xml;version=2.1",
    "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1",
    "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
    "application/vnd.sdmx.structurespecifictimeseriesdata+xml;version=2.1",
]


@pytest.fixture(scope="module")
def client(live: Live) -> sdmx.Client:
    """sdmx1 on REST v1, declaring the availability resource the service has."""
    sdmx.add_source(
        {
            "id": "ILMS_NEWCOMER",
            "url": live.rest,
            "name": "ILMS (newcomer tests)",
            "supports": {"availableconstraint": True, "structure-specific data": True},
        },
        override=True,
    )
    return sdmx.Client("ILMS_NEWCOMER")


@pytest.fixture(scope="module")
def dsd(client: sdmx.Client) -> Any:
    msg = client.dataflow(FLOW, agency_id="ILO", params={"references": "descendants"})
    return msg.structure["DSD_ILMS_STOCK"]


@pytest.mark.parametrize("accept", ML21_DATA)
def test_sdmx1_data_with_a_dict_key(client: sdmx.Client, dsd: Any, accept: str) -> None:
    """``client.data`` with a key by dimension and a period: every SDMX-ML 2.1 data format
    reads back to the same values in ``to_pandas``, the changed value included."""
    msg = client.data(
        FLOW,
        key={"REF_AREA": "THA", "SEX": ["SEX_F", "SEX_M"]},
        params={"startPeriod": "2023"},
        dsd=dsd,
        headers={"Accept": accept},
    )
    assert msg.response.url.endswith(f"/data/{FLOW}/THA...SEX_F+SEX_M.......?startPeriod=2023")
    series = sdmx.to_pandas(msg)
    assert len(series) == 2 * len(ECOS) * len(BIRTHS) * len(("2023", "2024")) - len([DELETED])
    values = series.xs("2024", level="TIME_PERIOD").xs("ECO_ISIC4_A", level="ECO")
    assert values.xs(("SEX_F", "CBR_BIR_FOREIGN"), level=("SEX", "CBR")).tolist() == [999.5]
    assert ("SEX_M", "CBR_BIR_FOREIGN") not in values.droplevel(
        [n for n in values.index.names if n not in ("SEX", "CBR")]
    )


def test_sdmx1_available_constraint(client: sdmx.Client) -> None:
    """``client.get("availableconstraint", ...)``: an Actual constraint with the codes that
    have data, read by sdmx1 from SDMX-ML 2.1."""
    msg: Any = client.get("availableconstraint", FLOW, key=ALL_THA)
    (constraint,) = msg.constraint.values()
    assert constraint.role.role.name == "actual"
    region = constraint.data_content_region[0].member
    members = {d.id: {v.value for v in s.values} for d, s in region.items() if d.id in DIMS}
    assert members["SEX"] == set(SEXES)
    assert members["ECO"] == set(ECOS)
    assert members["REF_AREA"] == {"THA"}
    counts = {a.id: str(a.title) for a in constraint.annotations}
    assert counts == {"series_count": str(SERIES), "obs_count": str(current())}


def test_sdmx1_rest_v2_data(live: Live) -> None:
    """sdmx1 with ``versions: ["3.0.0"]`` builds /data/*/ILO/{flow}/+/{key} (context ``*``,
    version ``+``, trailing key parts left out) and reads SDMX-ML 3.0 data.

    Table 6 shows the totals pushed through table 5 (one observation, shared by the tables).
    sdmx1 2.28 builds its SDMX-ML 3.0 reader, on first import, from the 2.1 reader's parsers,
    which by then hold the namespaces of the structure-specific messages read: importing it
    after reading one fails (ValueError naming the namespace), hence the import at the top.
    """
    sdmx.add_source(
        {
            "id": "ILMS_NEWCOMER3",
            "url": f"{live.rest}/v2",
            "name": "ILMS v2 (newcomer tests)",
            "versions": ["3.0.0"],
            "headers": {"data": {"Accept": "application/vnd.sdmx.data+xml;version=3.0.0"}},
        },
        override=True,
    )
    client3 = sdmx.Client("ILMS_NEWCOMER3")
    msg = client3.data("DF_ILMS_A06", key="THA.A.MST_TEMP_NB.SEX_T", agency_id="ILO")
    assert msg.response.url.endswith("/data/*/ILO/DF_ILMS_A06/+/THA.A.MST_TEMP_NB.SEX_T")
    series = sdmx.to_pandas(msg.data[0])
    assert len(series) == len(BIRTHS) * len(YEARS)
    assert set(series.index.get_level_values("ECO")) == {"ECO_ISIC4_TOTAL"}


# --- pysdmx --------------------------------------------------------------------------------------


def _thailand(field: str, op: Operator, value: Any) -> MultiFilter:
    """REF_AREA THA and one more condition (pysdmx sends each as a ``c[...]`` parameter)."""
    return MultiFilter(
        filters=[
            TextFilter(field="REF_AREA", operator=Operator.EQUALS, value="THA"),
            TextFilter(field=field, operator=op, value=value)
            if isinstance(value, str)
            else NumberFilter(field=field, operator=op, value=value),
        ]
    )


def one_frame(message: str) -> Any:
    """The pandas frame of the one data set pysdmx reads in ``message``."""
    datasets: Any = read_sdmx(message, validate=False).data
    (dataset,) = datasets
    return dataset.data


def _v2_query(**kw: Any) -> DataQuery:
    return DataQuery(context=DataContext.DATAFLOW, agency_id="ILO", resource_id=FLOW, **kw)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (_v2_query(version="1.0", key="THA.*.*.SEX_F"), len(ECOS) * len(BIRTHS) * len(YEARS)),
        (
            _v2_query(components=_thailand("TIME_PERIOD", Operator.GREATER_THAN_OR_EQUAL, 2023)),
            current("2023"),
        ),
        (
            _v2_query(components=_thailand("SEX", Operator.LIKE, "%_T")),
            SERIES * len(YEARS) // len(SEXES),
        ),
        (_v2_query(components=_thailand("OBS_VALUE", Operator.BETWEEN, [900, 1000])), 1),
        (_v2_query(key="THA", last_n_obs=1), SERIES),
    ],
    ids=["key", "period-filter", "ends-with", "between", "last-n"],
)
def test_pysdmx_query_builder_v2(live: Live, query: DataQuery, expected: int) -> None:
    """``RestService`` on REST v2 with SDMX-CSV 2.0: keys with ``*`` (sent as ``%2A``) and
    ``c[...]`` filters as pysdmx writes them (``ge:2023``, LIKE as ``ew:_T``, BETWEEN as
    ``ge:900+le:1000`` with the ``+`` left unencoded)."""
    service = RestService(
        f"{live.rest}/v2", ApiVersion.V2_0_0, DataFormat.SDMX_CSV_2_0_0, timeout=60.0
    )
    assert len(one_frame(service.data(query).decode())) == expected


PYSDMX_READS = [
    "application/vnd.sdmx.data+csv;version=1.0.0",
    "application/vnd.sdmx.data+csv;version=2.0.0",
    *ML21_DATA,
    "application/vnd.sdmx.data+xml;version=3.0.0",
]


def _observations(http: httpx.Client, accept: str) -> set[tuple[str, ...]]:
    """(series key, period, value) of every observation, as pysdmx reads the answer."""
    response = http.get(f"/rest/data/{FLOW}/{ALL_THA}?startPeriod=2023", headers={"Accept": accept})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == accept
    frame = one_frame(response.text)
    keys = frame[list(DIMS)].astype(str).agg(".".join, axis=1)
    values = frame["OBS_VALUE"].astype(float).map("{:.1f}".format)
    return set(zip(keys, frame["TIME_PERIOD"].astype(str), values, strict=True))


def test_pysdmx_reads_every_data_format_alike(http: httpx.Client) -> None:
    """pysdmx reads SDMX-CSV 1.0 and 2.0, the four SDMX-ML 2.1 data messages and SDMX-ML 3.0
    (not SDMX-JSON data): the same observations in each."""
    found = {accept: _observations(http, accept) for accept in PYSDMX_READS}
    reference = found[PYSDMX_READS[1]]
    assert len(reference) == current("2023")
    assert (
        series_key(_key(*CHANGED)),
        "2024",
        "999.5",
    ) in reference
    assert {accept: got == reference for accept, got in found.items()} == dict.fromkeys(found, True)


# --- Plain HTTP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"/rest/data/{FLOW}/THA", 400, 140),
        (f"/rest/data/{FLOW}/{ALL_THA}.", 400, 140),
        (f"/rest/data/{FLOW}/VNM" + "." * (len(DIMS) - 1), 404, 100),
        (f"/rest/data/{FLOW}/{ALL_THA}/ILO,VNM", 404, 100),
        (f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0/THA" + ".*" * len(DIMS), 400, 140),
        (f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0/THA?c[NOPE]=x", 400, 140),
    ],
)
def test_odd_queries_are_sdmx_errors(http: httpx.Client, path: str, status: int, code: int) -> None:
    """Too few or too many key parts, unknown components: 400 with SDMX error 140; nothing
    matching on REST v1: 404 with error 100."""
    response = http.get(path)
    assert response.status_code == status, response.text[:300]
    assert error_code(response) == code


def test_nothing_matching_on_rest_v2_is_204(http: httpx.Client) -> None:
    response = http.get(f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0/VNM")
    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.parametrize(
    ("raw", "encoded", "expected"),
    [
        ("c[TIME_PERIOD]=ge:2023+le:2023", "c%5BTIME_PERIOD%5D=ge%3A2023%2Ble%3A2023", SERIES),
        ("c[SEX]=SEX_F,SEX_T", "c%5bSEX%5d=SEX_F%2CSEX_T", 2 * SERIES * len(YEARS) // len(SEXES)),
    ],
)
def test_filters_as_clients_encode_them(
    http: httpx.Client, raw: str, encoded: str, expected: int
) -> None:
    """``+`` left unencoded (pysdmx) reads as the ``+`` of the filter grammar, not a space;
    brackets, ``,`` and ``+`` percent-encoded (browsers, curl --data-urlencode) read alike."""
    path = f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0/THA"
    rows = [csv_rows(http.get(f"{path}?{q}", headers={"Accept": CSV20})) for q in (raw, encoded)]
    assert rows[0] == rows[1]
    assert len(rows[0]) == expected


def test_harvest_after_a_change(http: httpx.Client, live: Live) -> None:
    """updatedAfter: the update and the deletion (ACTION=D), nothing else; the offset of the
    instant is honoured whether ``+`` is percent-encoded or not."""
    instant = live.between.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat()
    answers = [
        csv_rows(http.get(f"/rest/data/{FLOW}/all?updatedAfter={when}&format=csvfile"))
        for when in (instant, instant.replace("+", "%2B"))
    ]
    assert answers[0] == answers[1]
    got = {(r["SEX"], r["ECO"], r["CBR"]): (r["ACTION"], r["OBS_VALUE"]) for r in answers[0]}
    assert len(answers[0]) == 2
    assert got[DELETED] == ("D", "")
    assert got[CHANGED][1] == "999.5"


def test_history_and_as_of(http: httpx.Client, live: Live) -> None:
    """includeHistory: both versions of the changed observation; asOf before the change: the
    first value, and the deleted observation still there."""
    changed, deleted = series_key(_key(*CHANGED)), series_key(_key(*DELETED))
    path = f"/rest/data/{FLOW}/{changed}?startPeriod=2024&format=csvfile"
    history = csv_rows(http.get(f"{path}&includeHistory=true"))
    assert sorted(r["OBS_VALUE"] for r in history) == sorted([_value(0, "2024"), "999.5"])
    when = live.between.isoformat().replace("+", "%2B")
    for series, value in ((changed, _value(0, "2024")), (deleted, _value(9, "2024"))):
        (row,) = csv_rows(
            http.get(f"/rest/data/{FLOW}/{series}?startPeriod=2024&asOf={when}&format=csvfile")
        )
        assert row["OBS_VALUE"] == value


def test_conditional_requests(http: httpx.Client) -> None:
    """A weak ETag: If-None-Match with it, or with its strong form, answers 304; another format
    of the same query has another tag."""
    path = f"/rest/data/{FLOW}/{ALL_THA}?startPeriod=2024"
    first = http.get(path)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    for tag in (etag, etag[2:], f'"other", {etag}'):
        assert http.get(path, headers={"If-None-Match": tag}).status_code == 304
    other = http.get(path, headers={"Accept": CSV20})
    assert other.headers["etag"] != etag
    assert http.get(path, headers={"Accept": CSV20, "If-None-Match": etag}).status_code == 200


def test_cors_preflight_for_an_upload(http: httpx.Client) -> None:
    """A browser about to POST with a token: the preflight allows the method and headers."""
    response = http.options(
        UPLOAD,
        headers={
            "Origin": "https://dashboard.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


# --- What the newcomer found wrong, now mended ----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/rest/codelist/ILO/CL_SEX/latest",
        f"/rest/availableconstraint/{FLOW}",
        f"/rest/data/{FLOW}/{ALL_THA}",
    ],
)
def test_head_answers_what_get_would(http: httpx.Client, path: str) -> None:
    """RFC 9110 9.3.2: HEAD sends the header fields GET would; a Content-Length, if any, is the
    length GET's body would have (a 0 tells caches and download tools the answer is empty)."""
    identity = {"Accept-Encoding": "identity"}
    head, get = http.head(path, headers=identity), http.get(path, headers=identity)
    assert head.status_code == get.status_code == 200
    assert head.headers.get("content-length") == get.headers.get("content-length")
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_unauthorized_upload_names_the_scheme(
    http: httpx.Client, authorization: str | None
) -> None:
    headers = {"Content-Type": CSV20}
    if authorization:
        headers["Authorization"] = authorization
    response = http.post(UPLOAD, content=_csv(_change()), headers=headers)
    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").startswith("Bearer")


def test_submission_instants_carry_their_offset(http: httpx.Client, live: Live) -> None:
    """receivedAt/finishedAt say they are UTC on every store (PostgreSQL: +00:00)."""
    auth = {"Authorization": f"Bearer {live.provider_token}"}
    (first, *_) = http.get("/rest/v2/submissions", headers=auth).json()["submissions"]
    for field in ("receivedAt", "finishedAt"):
        assert dt.datetime.fromisoformat(first[field]).utcoffset() == dt.timedelta(0)


def test_submissions_since_an_instant_with_an_offset(http: httpx.Client, live: Live) -> None:
    """``since`` names one instant however it is written: the change, pushed after
    ``between``, is listed for ``between`` in UTC and in UTC+07:00 alike."""
    auth = {"Authorization": f"Bearer {live.provider_token}"}
    listed = []
    for zone in (dt.UTC, dt.timezone(dt.timedelta(hours=7))):
        since = live.between.astimezone(zone).isoformat()
        found = http.get("/rest/v2/submissions", params={"since": since}, headers=auth)
        assert found.status_code == 200, found.text[:300]
        listed.append([s["id"] for s in found.json()["submissions"]])
    assert len(listed[0]) == 1
    assert listed[1] == listed[0]


def test_a_filter_without_its_component_is_refused(http: httpx.Client) -> None:
    response = http.get(
        f"/rest/v2/data/dataflow/ILO/{FLOW}/1.0/THA", params={"c": "TIME_PERIOD=ge:2024"}
    )
    assert response.status_code == 400, f"{len(response.content)} bytes of data"
    assert error_code(response) == 140
