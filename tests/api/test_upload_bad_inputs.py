"""A corpus of bad uploads: each gets its own error and writes nothing.

For every case the answer has the expected HTTP status, an SDMX error message (JSON with an
``errors`` list carrying the SDMX code) and, when the message was read, a validation problem
with the expected rule whose text names the culprit (the code, period, column, value...).
No observation, series or attribute row is written, and the attempt is in the audit trail as a
rejected submission, except for requests refused before the upload is looked at: no or a
revoked token (401, nobody to record it for), an oversized or undecodable gzip body (413, 400:
see the tests at the end, written as xfails for bugs since fixed).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.db import make_engine
from service.errors import PayloadTooLarge
from service.main import create_app
from service.model.types import StructureType
from service.storage.structures import StructureRepository
from service.storage.tokens import TokenRepository
from tests.api.upload_helpers import (
    A05,
    CSV20,
    JSON20,
    ML21_SS,
    STOCK_DIMENSIONS,
    STORES,
    Env,
    fresh_settings,
    open_env,
    problems,
)

# --- messages ----------------------------------------------------------------------------------

COLUMNS = (
    *("STRUCTURE", "STRUCTURE_ID", "ACTION"),
    *STOCK_DIMENSIONS,
    *("TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "SOURCE"),
)


def obs(**changes: str) -> dict[str, str]:
    """One valid A05 observation (Thailand, 2020) as column -> cell, with ``changes``."""
    base = {
        "STRUCTURE": "dataflow",
        "STRUCTURE_ID": "ILO:DF_ILMS_A05(1.0)",
        "ACTION": "I",
        "REF_AREA": "THA",
        "FREQ": "A",
        "MEASURE": "MST_TEMP_NB",
        "SEX": "SEX_T",
        "AGE": "AGE_AGGREGATE_TOTAL",
        "EDU": "EDU_ISCED11_TOTAL",
        "ECO": "ECO_ISIC4_TOTAL",
        "OCU": "OCU_ISCO08_TOTAL",
        "STE": "STE_ICSE93_TOTAL",
        "CBR": "CBR_BIR_FOREIGN",
        "CCT": "CCT_CIT_TOTAL",
        "TIME_PERIOD": "2020",
        "OBS_VALUE": "10.5",
        "OBS_STATUS": "",
        "SOURCE": "LFS",
    }
    return {**base, **changes}


def csv(*rows: dict[str, str], drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> bytes:
    """SDMX-CSV 2.0: ``drop`` leaves columns out, ``add`` appends columns (cells "X")."""
    columns = [c for c in COLUMNS if c not in drop] + list(add)
    lines = [",".join(columns)]
    lines += [",".join(r.get(c, "X") for c in columns) for r in rows]
    return ("\n".join(lines) + "\n").encode()


_NS = (
    'xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
    'xmlns:ss="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific" '
    'xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"'
)
_HEADER = (
    "<mes:Header><mes:ID>BAD</mes:ID><mes:Test>true</mes:Test>"
    "<mes:Prepared>2024-01-01T00:00:00</mes:Prepared><mes:Sender id='TEST'/>"
    '<mes:Structure structureID="A05" dimensionAtObservation="AllDimensions">'
    '<com:StructureUsage><Ref agencyID="ILO" id="DF_ILMS_A05" version="1.0"/>'
    "</com:StructureUsage></mes:Structure></mes:Header>"
)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def xml(*rows: dict[str, str], inner: str = "", prolog: str = DECLARATION) -> str:
    """SDMX-ML 2.1 structure-specific, one flat ``Obs`` per line from line 4 on."""
    skipped = {"STRUCTURE", "STRUCTURE_ID", "ACTION"}
    elements = [
        "<Obs " + " ".join(f'{k}="{v}"' for k, v in r.items() if k not in skipped and v) + "/>"
        for r in rows
    ]
    return "\n".join(
        [
            prolog,
            f"<mes:StructureSpecificData {_NS}>{_HEADER}",
            '<mes:DataSet ss:structureRef="A05" action="Append">',
            *elements,
            f"{inner}</mes:DataSet></mes:StructureSpecificData>",
        ]
    )


XXE = '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """An upload and what it must get."""

    body: bytes
    status: int
    code: int  # the SDMX error code in ``errors``
    culprit: str  # text the problem (or the error detail) must contain
    rule: str | None = None  # the validation rule, when the message was read
    location: str | None = None
    content_type: str | None = CSV20
    url: str = A05
    token: str = "admin"  # admin, tha, none, revoked
    headers: dict[str, str] = field(default_factory=dict)
    #: whether a rejected submission is recorded (not without a valid token)
    recorded: bool = True


def invalid(body: bytes, rule: str, culprit: str, location: str = "row 2", **kw: Any) -> Bad:
    return Bad(body, 422, 150, culprit, rule, location, **kw)


def unreadable(body: bytes, culprit: str, location: str | None = None, **kw: Any) -> Bad:
    return Bad(body, 400, 140, culprit, "unreadable_message", location, **kw)


ML = {"content_type": ML21_SS}

CASES: dict[str, Bad] = {
    # --- validation, SDMX-CSV 2.0 ---
    "unknown-code": invalid(
        csv(obs(ECO="ECO_ISIC4_NOPE")), "code_not_in_codelist", "ECO_ISIC4_NOPE"
    ),
    "code-not-allowed-by-constraint": invalid(
        csv(obs(ECO="ECO_ISIC3_A")), "code_not_allowed", "CR_ILMS_A05"
    ),
    "missing-dimension-column": invalid(csv(obs(), drop=("SEX",)), "missing_dimension", "SEX"),
    "extra-unknown-column": unreadable(csv(obs(), add=("COLOUR",)), "'COLOUR'", "row 1"),
    "period-month-13": invalid(csv(obs(TIME_PERIOD="2020-13")), "bad_time_period", "month 13"),
    "period-quarter-5": invalid(csv(obs(TIME_PERIOD="2020-Q5")), "bad_time_period", "quarter 5"),
    "period-2021-02-29": invalid(
        csv(obs(TIME_PERIOD="2021-02-29")), "bad_time_period", "has no day 29"
    ),
    "frequency-mismatch": invalid(
        csv(obs(TIME_PERIOD="2020-Q1")), "period_frequency_mismatch", "'2020-Q1' is a quarter"
    ),
    "non-numeric-value": invalid(csv(obs(OBS_VALUE="12a")), "not_a_number", "'12a'"),
    "missing-value-without-status": invalid(
        csv(obs(OBS_VALUE="")), "missing_value_without_status", "OBS_VALUE is missing"
    ),
    "unknown-status-code": invalid(
        csv(obs(OBS_STATUS="Q")), "code_not_in_codelist", "OBS_STATUS 'Q'"
    ),
    "duplicate-observation": invalid(
        csv(obs(), obs(OBS_VALUE="3")), "duplicate_observation", "for period 2020"
    ),
    "conflicting-attribute-values": invalid(
        csv(obs(), obs(SEX="SEX_M", SOURCE="Census")),
        "conflicting_attribute_values",
        "SOURCE",
    ),
    "one-valid-row-then-a-bad-row": invalid(
        csv(obs(TIME_PERIOD="2019"), obs(OBS_VALUE="ten")), "not_a_number", "'ten'", "row 3"
    ),
    "provider-area-out-of-scope": invalid(
        csv(obs(REF_AREA="MYS")), "provider_area_not_allowed", "REF_AREA MYS", token="tha"
    ),
    "malformed-csv-unclosed-quote": unreadable(
        csv(obs()) + b'dataflow,"ILO:DF_ILMS_A05(1.0),I,THA\n', "malformed CSV", "row 3"
    ),
    # --- validation, SDMX-ML 2.1 (locations are lines) ---
    "xml-unknown-code": invalid(
        xml(obs(SEX="SEX_X")).encode(), "code_not_in_codelist", "SEX_X", "line 4", **ML
    ),
    "xml-missing-dimension": invalid(
        xml(obs(CCT="")).encode(), "missing_dimension", "CCT", "line 4", **ML
    ),
    "xml-bad-period": invalid(
        xml(obs(TIME_PERIOD="2020-W54")).encode(), "bad_time_period", "2020-W54", "line 4", **ML
    ),
    "xml-valid-then-non-numeric": invalid(
        xml(obs(TIME_PERIOD="2019"), obs(OBS_VALUE="1,5")).encode(),
        "not_a_number",
        "'1,5'",
        "line 5",
        **ML,
    ),
    # --- unreadable or unsafe messages ---
    "truncated-xml": unreadable(xml(obs()).encode()[:-30], "truncated", **ML),
    "xxe-file-etc-passwd": unreadable(
        xml(obs(OBS_VALUE="&xxe;"), prolog=DECLARATION + XXE).encode(), "DOCTYPE", **ML
    ),
    "billion-laughs": unreadable(
        xml(obs(OBS_VALUE="&lol9;"), prolog=DECLARATION + LAUGHS).encode(), "DOCTYPE", **ML
    ),
    "deeply-nested-xml": unreadable(
        xml(inner="<x>" * 200 + "</x>" * 200).encode(), "nested deeper than 50 levels", **ML
    ),
    "very-deeply-nested-xml": unreadable(  # past libxml2's own limit (256)
        xml(inner="<x>" * 10_000 + "</x>" * 10_000).encode(), "nested too deep", **ML
    ),
    "doctype-in-utf16": unreadable(
        xml(obs(), prolog='<?xml version="1.0" encoding="UTF-16"?>' + XXE).encode("utf-16"),
        "DOCTYPE",
        **ML,
    ),
    "doctype-in-utf16-without-bom": unreadable(
        xml(obs(), prolog='<?xml version="1.0" encoding="UTF-16"?>' + XXE).encode("utf-16-le"),
        "DOCTYPE",
        **ML,
    ),
    "malformed-json": unreadable(
        b'{"meta": {"schema": "x"}, "data": {"dataSets": [{"series": {',
        "malformed",
        content_type=JSON20,
    ),
    "json-syntax-error": unreadable(
        b'{"meta": {}, "data": }', "malformed or truncated JSON", content_type=JSON20
    ),
    # --- refused before reading ---
    "unknown-dataflow": Bad(
        csv(obs()),
        404,
        100,
        "ILO:DF_NOPE(1.0)",
        "refused",
        url="/rest/v2/data/dataflow/ILO/DF_NOPE/1.0",
    ),
    "wrong-content-type": Bad(
        csv(obs()), 415, 140, "'application/pdf'", "refused", content_type="application/pdf"
    ),
    "no-content-type": Bad(csv(obs()), 415, 140, "no Content-Type", "refused", content_type=None),
    "provider-uploads-to-a-data-structure": Bad(
        csv(obs()),
        403,
        1403,
        "data providers upload to a dataflow",
        "refused",
        url="/rest/v2/data/datastructure/ILO/DSD_ILMS_STOCK/1.0",
        token="tha",
    ),
    "truncated-gzip": Bad(
        gzip.compress(csv(obs()))[:-12],
        400,
        140,
        "gzip body is truncated",
        headers={"Content-Encoding": "gzip"},
    ),
    "missing-token": Bad(csv(obs()), 401, 110, "needs a token", token="none", recorded=False),
    "revoked-token": Bad(csv(obs()), 401, 110, "revoked", token="revoked", recorded=False),
}


# --- the store ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("bad")
    with open_env(fresh_settings(str(request.param), folder, "bad_inputs")) as opened:
        yield opened


@pytest.fixture
def env(served: Env) -> Env:
    served.wipe_data()
    return served


def token_for(env: Env, kind: str) -> str:
    if kind == "admin":
        return env.admin
    if kind == "tha":
        return env.tha
    if kind == "none":
        return ""
    with env.session() as session:
        repo = TokenRepository(session)
        token, _ = repo.create(provider="ILO:VNM", is_admin=False)
        assert repo.revoke(token) == 1
        session.commit()
    return token


def check_rejected(
    env: Env, response: Any, case: Bad, submissions_before: int, provider: str
) -> None:
    """Status, SDMX error, the problem naming the culprit, nothing written, the audit trail."""
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].split(";")[0].endswith("json")
    body = response.json()
    [error] = body["errors"]
    assert error["code"] == case.code
    if case.rule is None:  # refused before the upload was looked at: the error says why
        assert case.culprit in error["detail"]
        assert "submission" not in body
    else:
        found = [p for p in problems(response) if p["rule"] == case.rule]
        assert found, problems(response)
        assert any(case.culprit in p["message"] for p in found), found
        if case.location is not None:
            assert found[0]["location"] == case.location
        assert body["submission"]["status"] == "rejected"
    assert env.data_counts() == dict.fromkeys(env.data_counts(), 0)
    new = env.submissions()[submissions_before:]
    if case.recorded:
        assert [(status, who) for status, who, _ in new] == [("rejected", provider)]
    else:
        assert new == []


@pytest.mark.parametrize("name", CASES)
def test_bad_upload(env: Env, name: str) -> None:
    case = CASES[name]
    before = len(env.submissions())
    response = env.post(
        case.body,
        content_type=case.content_type,
        token=token_for(env, case.token),
        url=case.url,
        headers=case.headers,
    )
    check_rejected(env, response, case, before, "ILO:THA" if case.token == "tha" else "admin")
    assert "root:" not in response.text  # nothing of /etc/passwd, whatever the case


def test_unknown_dataflow_is_recorded_under_its_name(env: Env) -> None:
    before = len(env.submissions())
    env.post(csv(obs()), url="/rest/v2/data/dataflow/ILO/DF_NOPE/1.0")
    assert env.submissions()[before:] == [("rejected", "admin", "ILO:DF_NOPE(1.0)")]


def test_oversized_body(served: Env) -> None:
    small = served.settings.model_copy(update={"max_upload_bytes": 200})
    body = csv(obs(), obs(TIME_PERIOD="2021"), obs(TIME_PERIOD="2022"))
    assert len(body) > 200
    case = Bad(body, 413, PayloadTooLarge.code, "200-byte upload limit")
    auth = {"Content-Type": CSV20, "Authorization": f"Bearer {served.admin}"}
    with TestClient(create_app(small)) as client:
        before = len(served.submissions())
        plain = client.post(A05, content=body, headers=auth)
        check_rejected(served, plain, case, before, "admin")
        # the limit is on the decoded bytes: a small gzip of a big body is refused too
        zipped = client.post(
            A05, content=gzip.compress(body), headers={**auth, "Content-Encoding": "gzip"}
        )
        check_rejected(served, zipped, case, before + 1, "admin")


@pytest.mark.parametrize("store", STORES)
def test_provider_without_a_provision_agreement(store: str, tmp_path: Path) -> None:
    """Every ASEAN provider has an agreement for every ILMS dataflow: remove Thailand's for A05."""
    settings = fresh_settings(store, tmp_path, "bad_no_pa")
    with Session(make_engine(settings)) as session:
        key = (StructureType.PROVISIONAGREEMENT, "ILO", "PA_THA_ILMS_A05", "1.0")
        assert StructureRepository(session).delete(key)
        session.commit()
    with open_env(settings) as env:
        before = len(env.submissions())
        response = env.post(csv(obs()), token=env.tha)
        case = Bad(
            b"",
            403,
            1403,
            "provider ILO:THA has no provision agreement for ILO:DF_ILMS_A05(1.0)",
            "refused",
        )
        check_rejected(env, response, case, before, "ILO:THA")
        # the same provider may still upload to a dataflow it has an agreement for
        other = csv(obs(STRUCTURE_ID="ILO:DF_ILMS_A06(1.0)"))
        accepted = env.post(other, token=env.tha, url="/rest/v2/data/dataflow/ILO/DF_ILMS_A06/1.0")
        assert accepted.status_code == 201, accepted.text


# --- found here as service bugs and gaps, since fixed ------------------------------------------


def test_a_duplicate_is_located_at_its_first_row_past_row_9(env: Env) -> None:
    years = [obs(TIME_PERIOD=str(2000 + i)) for i in range(8)]  # rows 2 to 9
    response = env.post(csv(*years, obs(TIME_PERIOD="2007", OBS_VALUE="3")))  # row 10
    assert response.status_code == 422
    [problem] = problems(response)
    assert problem["rule"] == "duplicate_observation"
    assert problem["location"] == "row 9"  # as rows 2 and 3 give "row 2"


@pytest.mark.parametrize("refusal", ["truncated-gzip", "oversized"])
def test_every_refused_upload_by_a_valid_token_is_recorded(served: Env, refusal: str) -> None:
    served.wipe_data()
    before = len(served.submissions())
    settings = served.settings
    headers = {"Content-Type": CSV20, "Authorization": f"Bearer {served.admin}"}
    body = csv(obs(), obs(TIME_PERIOD="2021"), obs(TIME_PERIOD="2022"))
    if refusal == "truncated-gzip":
        body = gzip.compress(body)[:-12]
        headers["Content-Encoding"] = "gzip"
    else:
        settings = settings.model_copy(update={"max_upload_bytes": 200})
    with TestClient(create_app(settings)) as client:
        response = client.post(A05, content=body, headers=headers)
    assert response.status_code in (400, 413)
    assert [s for s, _, _ in served.submissions()[before:]] == ["rejected"]
