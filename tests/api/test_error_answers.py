"""Error answers every client can read, on both stores: control characters echoed in SDMX-ML
errors, a 406 in JSON for a client that takes only JSON, 404s and 501s that show the path
templates, ``Vary: Accept-Encoding`` on every response, and a ``Content-Language`` that names
the language served."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from service.errors import NotAcceptable, QuerySyntaxError
from service.formats.base import Header
from service.formats.media_types import STRUCTURE_WRITERS
from tests.api.conftest import Env
from tests.api.test_availability import V2 as AVAILABILITY
from tests.api.test_availability import loaded  # noqa: F401 - a fixture
from tests.jsonschemas import validate_sdmx_json
from tests.xsd import validate_sdmx_ml

ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"
V1_DATA = "/rest/data/{flowRef}/{key}/{providerRef}"
V1_AVAILABILITY = "/rest/availableconstraint/{flowRef}/{key}/{providerRef}/{componentID}"
V2_DATA = "/rest/v2/data/{context}/{agencyID}/{resourceID}/{version}/{key}"
V2_AVAILABILITY = (
    "/rest/v2/availability/{context}/{agencyID}/{resourceID}/{version}/{key}/{componentID}"
)
KEY = "THA.A.MST_TEMP_NB.SEX_F......."


def checked_error(response: Any, status: int, code: int, media_type: str) -> str:
    """The error's text, once the status, the format, the code and the schema are checked."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == media_type, response.text[:300]
    if "json" in media_type:
        version = media_type.rsplit("=", 1)[1].removesuffix(".0")
        validate_sdmx_json(response.content, "structure", version)
        [error] = response.json()["errors"]
        assert error["code"] == code
        return str(error["detail"])
    validate_sdmx_ml(response.content, "2.1" if media_type == ML21 else "3.0")
    [message] = etree.fromstring(response.content).findall(".//{*}ErrorMessage")
    assert message.get("code") == str(code)
    return "".join(str(t) for t in message.itertext())


# --- A5: control characters in what an SDMX-ML error echoes -----------------------------------


@pytest.mark.parametrize(
    ("url", "accept", "status", "code", "media_type"),
    [
        ("/rest/codelist/ILO/CL_SEX/1.0/%00", None, 400, 140, ML21),
        ("/rest/codelist/ILO/%01", None, 400, 140, ML21),
        ("/rest/codelist/ILO/CL_SEX?detail=%01", None, 400, 140, ML21),
        ("/rest/codelist/ILO/CL_SEX?references=%01", None, 400, 140, ML21),
        ("/rest/%01", None, 400, 140, ML21),
        ("/rest/data/%01", None, 404, 100, ML21),  # names no dataflow
        ("/rest/availableconstraint/%01", None, 404, 100, ML21),
        ("/rest/data/DF_ILMS_A05/%01", None, 400, 140, ML21),
        ("/rest/v2/structure/codelist/ILO/%01", ML30, 400, 140, ML30),
        ("/rest/v2/availability/dataflow/ILO/%01", ML30, 400, 140, ML30),
        ("/rest/v2/%01", ML30, 404, 100, ML30),
    ],
)
def test_control_characters_are_echoed_visibly(
    client: Any, url: str, accept: str | None, status: int, code: int, media_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(url, headers=headers)
    text = checked_error(response, status, code, media_type)
    # a NUL is refused before any route runs, naming it (tests/api/test_nul_and_control.py)
    assert "\\x01" in text or "NUL" in text, text


@pytest.mark.parametrize("media_type", [ML21, ML30])
def test_sdmx_ml_error_writer_takes_any_text(media_type: str) -> None:
    """What XML 1.0 cannot carry (controls, lone surrogates, U+FFFE) is written visibly; tab,
    line feed and what XML takes are kept."""
    error = QuerySyntaxError("bad 'a\x00b\x1f\udc80\ufffe' é\t→ 𝄞")
    header = Header(id="IREF1", prepared=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), sender="ILO")
    body = STRUCTURE_WRITERS[media_type].write_error(error, header=header)
    validate_sdmx_ml(body, "2.1" if media_type == ML21 else "3.0")
    found = etree.fromstring(body).find(".//{*}Text")
    assert found is not None
    text = "".join(str(t) for t in found.itertext())
    assert text == "Syntax error: bad 'a\\x00b\\x1f\\udc80\\ufffe' é\t→ 𝄞"


# --- B2: a 406 in SDMX-JSON for a client that takes only JSON ---------------------------------


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        (f"/rest/data/DF_ILMS_A05/{KEY}", "application/vnd.sdmx.data+json;version=2.1.0"),
        (f"/rest/data/DF_ILMS_A05/{KEY}", "application/json;version=3.0.0;q=0.8"),
        (
            "/rest/v2/data/dataflow/ILO/DF_ILMS_A05/~",
            "application/vnd.sdmx.data+json;version=2.1.0",
        ),
        ("/rest/codelist/ILO/CL_SEX", "application/vnd.sdmx.structure+json;version=2.1.0"),
        ("/rest/codelist/ILO/CL_SEX", "application/json;version=9, text/json;q=0.5"),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", "application/json;version=9"),
        ("/rest/availableconstraint/DF_ILMS_A05", "application/vnd.sdmx.structure+json;version=3"),
        ("/rest/v2/availability/dataflow/ILO/DF_ILMS_A05/~", "application/json;version=9"),
    ],
)
def test_406_to_a_json_only_client_is_sdmx_json(client: Any, url: str, accept: str) -> None:
    response = client.get(url, headers={"Accept": accept})
    text = checked_error(response, 406, NotAcceptable.code, JSON20)
    assert accept.split(",")[0] in text


@pytest.mark.parametrize(
    ("url", "accept", "media_type"),
    [
        # XML or CSV asked for, or JSON refused: the API's default, as before
        (
            "/rest/codelist/ILO/CL_SEX",
            "application/json;version=9, application/vnd.sdmx.structure+xml;version=9",
            ML21,
        ),
        ("/rest/codelist/ILO/CL_SEX", "application/json;q=0", ML21),
        (f"/rest/data/DF_ILMS_A05/{KEY}", "application/vnd.sdmx.data+csv;version=9", ML21),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", "text/csv", JSON20),
    ],
)
def test_406_to_other_clients_keeps_the_default(
    client: Any, url: str, accept: str, media_type: str
) -> None:
    checked_error(client.get(url, headers={"Accept": accept}), 406, NotAcceptable.code, media_type)


# --- B3 and E2: paths no route serves ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/rest/v2/data/dataflow/ILO/DF_ILMS_A06/~/VNM/extra", V2_DATA),
        ("/rest/v2/data/dataflow/ILO/DF_ILMS_A06/~/VNM/extra/more", V2_DATA),
        ("/rest/v2/availability/dataflow/ILO/DF_ILMS_A05/~/THA/ALL/extra", V2_AVAILABILITY),
        ("/rest/v2/nonsense/here", "/rest/v2/structure/{type}/{agency}/{id}/{version}"),
    ],
)
def test_v2_paths_with_extra_segments_are_404_with_the_template(
    client: Any, url: str, template: str
) -> None:
    text = checked_error(client.get(url), 404, 100, JSON20)
    assert f"no resource at {url}" in text
    assert template in text
    assert "not implemented" not in text


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/rest/v2/data", V2_DATA),
        ("/rest/v2/data/dataflow", V2_DATA),
        ("/rest/v2/data/dataflow/ILO", V2_DATA),
        ("/rest/v2/availability", V2_AVAILABILITY),
    ],
)
def test_v2_queries_across_dataflows_are_501_saying_what(
    client: Any, url: str, template: str
) -> None:
    text = checked_error(client.get(url), 501, 501, JSON20)
    assert "query across dataflows is not supported" in text
    assert f"name one: {template}" in text


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (f"/rest/Data/DF_ILMS_A05/{KEY}", V1_DATA),
        (f"/rest/data/DF_ILMS_A05/{KEY}/ILO,THA/extra", V1_DATA),
        (f"/rest/data/DF_ILMS_A05/{KEY}/ILO,THA/extra/more", V1_DATA),
        ("/rest/data", V1_DATA),
        ("/rest/availableconstraint/DF_ILMS_A05/THA/ILO/ALL/extra", V1_AVAILABILITY),
        ("/rest/AvailableConstraint/DF_ILMS_A05", V1_AVAILABILITY),
    ],
)
def test_misrouted_v1_data_paths_show_the_template(client: Any, url: str, template: str) -> None:
    text = checked_error(client.get(url), 404, 100, ML21)
    assert f"no resource at {url}" in text
    assert template in text
    assert "Unknown structure type" not in text
    assert ("case-sensitive" in text) == (url.split("/")[2] not in ("data", "availableconstraint"))


# --- E3: Vary: Accept-Encoding on every response ---------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/rest/codelist/ILO/CL_SEX", 200),  # large enough to be gzipped
        ("/rest/codelist/ILO/CL_SEX?detail=allstubs", 200),  # small: never gzipped
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", 200),
        ("/rest/codelist/ILO/CL_NOPE", 404),
        ("/rest/v2/data", 501),
        ("/health", 200),
    ],
)
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_vary_names_accept_encoding_once(client: Any, url: str, status: int, encoding: str) -> None:
    response = client.get(url, headers={"Accept-Encoding": encoding})
    assert response.status_code == status
    vary = [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert vary.count("accept-encoding") == 1, vary
    assert len(vary) == len(set(vary)), vary


def test_vary_on_304(client: Any) -> None:
    url = "/rest/codelist/ILO/CL_SEX"
    etag = client.get(url).headers["etag"]
    response = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert response.status_code == 304
    assert "Accept-Encoding" in response.headers["vary"]


# --- D4: Content-Language names the language served ------------------------------------------


@pytest.mark.parametrize(
    ("url", "asked", "served"),
    [
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", "xx", "en"),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", "de, fr;q=0.5", "fr"),
        ("/rest/v2/structure/dataflow/ILO/DF_ILMS_A05/~", "fr-CH", "fr"),
        ("/rest/v2/structure/dataflow/ILO/DF_ILMS_A05/~", "es", "es"),
        ("/rest/v2/structure/dataflow/ILO/DF_ILMS_A05/~", "de", "en"),
        ("/rest/codelist/ILO/CL_SEX?format=sdmx-json", "xx", "en"),
    ],
)
def test_structure_content_language_is_the_language_served(
    client: Any, url: str, asked: str, served: str
) -> None:
    response = client.get(url, headers={"Accept-Language": asked})
    assert response.status_code == 200
    assert response.headers["content-language"] == served
    assert response.json()["meta"]["contentLanguages"][0] == served
    etag = response.headers["etag"]
    again = client.get(url, headers={"Accept-Language": asked, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["content-language"] == served


@pytest.mark.parametrize(
    ("params", "asked", "served"),
    [
        ({}, "de", "en"),
        ({}, "fr", "en"),  # the Actual constraint is named in English only
        ({"references": "all"}, "fr-CH", "fr"),
        ({"references": "dataflow"}, "xx", "en"),
    ],
)
def test_availability_content_language_is_the_language_served(
    loaded: Env,  # noqa: F811 - the fixture
    params: dict[str, str],
    asked: str,
    served: str,
) -> None:
    for _ in range(2):  # made, then kept (or, on PostgreSQL, answered by the probe)
        response = loaded.client.get(
            AVAILABILITY, params=params, headers={"Accept-Language": asked}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-language"] == served
        assert response.json()["meta"]["contentLanguages"][0] == served
