"""Errors over real HTTP: SDMX error messages (code in the body, valid against the schemas),
status codes, CORS on errors, and how sdmx1 and pysdmx report them to their users."""

from __future__ import annotations

import httpx
import pytest
import requests
import sdmx
from lxml import etree
from pysdmx.api.fmr import RegistryClient
from pysdmx.errors import NotFound

from tests.conformance.conftest import FORMAT, FORMATS, Format, SchemaCheck, Server

pytestmark = pytest.mark.conformance

ORIGIN = "https://dashboard.example.org"


def error_code(response: httpx.Response | requests.Response) -> int:
    """The code of the (first) error in an SDMX error message, XML or JSON."""
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == "Error", response.text[:300]
    found = root.find("{*}ErrorMessage")
    assert found is not None, response.text[:300]
    return int(found.get("code", "0"))


def _path(fmt: Format, v1: str, v2: str) -> str:
    return v1 if fmt.name in ("sdmx-ml-2.1", "sdmx-json-1.0") else v2


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_unknown_artefact(http: httpx.Client, schema_check: SchemaCheck, fmt: Format) -> None:
    path = _path(
        fmt, "/rest/codelist/ILO/CL_NOPE/latest", "/rest/v2/structure/codelist/ILO/CL_NOPE/~"
    )
    response = http.get(path, headers={"Accept": fmt.media_type, "Origin": ORIGIN})
    assert response.status_code == 404
    assert response.headers["content-type"] == fmt.media_type
    assert error_code(response) == 100
    assert "CL_NOPE" in response.text
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert schema_check(response.content, fmt) == 0


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/rest/codelist/ILO/CL_SEX/1..0", "1..0"),
        ("/rest/codelist/ILO/CL_SEX/latest?references=bogus", "bogus"),
        ("/rest/dataflow/ILO/DF_ILMS_A01/latest?detail=everything", "everything"),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/x.y", "x.y"),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~?detail=bogus", "bogus"),
    ],
)
def test_bad_syntax(http: httpx.Client, path: str, fragment: str) -> None:
    response = http.get(path, headers={"Origin": ORIGIN})
    assert response.status_code == 400, response.text[:300]
    assert error_code(response) == 140
    assert fragment in response.text
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/rest/codelist/ILO/CL_SEX/latest", {"Accept": "text/csv"}),
        ("/rest/codelist/ILO/CL_SEX/latest?format=csv", {}),
        ("/rest/v2/structure/codelist/ILO/CL_SEX/~", {"Accept": "application/pdf"}),
        (
            "/rest/v2/structure/codelist/ILO/CL_SEX/~",
            {"Accept": "application/vnd.sdmx.structure+xml;version=9.9"},
        ),
    ],
)
def test_unsupported_format(http: httpx.Client, path: str, headers: dict[str, str]) -> None:
    response = http.get(path, headers={**headers, "Origin": ORIGIN})
    assert response.status_code == 406, response.text[:300]
    assert error_code(response) == 1406
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


@pytest.mark.parametrize(
    "path",
    [
        "/rest/v2/data/dataflow/ILO",  # data of every dataflow of an agency
        "/rest/v2/availability/dataflow/ILO/*/1.0/*",  # availability over several dataflows
        "/rest/schema/dataflow/ILO/DF_ILMS_A01/1.0",
        "/rest/hierarchicalcodelist/ILO/all/latest",
        "/rest/v2/structure/hierarchy/ILO/*/~",
    ],
)
def test_unimplemented_resource(http: httpx.Client, path: str) -> None:
    response = http.get(path, headers={"Origin": ORIGIN})
    assert response.status_code == 501, response.text[:300]
    assert error_code(response) == 501
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


def test_cors_preflight(http: httpx.Client) -> None:
    response = http.options(
        "/rest/v2/structure/codelist/ILO/CL_SEX/~",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept, accept-language",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "GET" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "accept" in allowed


@pytest.mark.parametrize(
    "path",
    [
        "/rest/codelist/ILO/CL_SEX/1.0",
        "/rest/v2/structure/codelist/ILO/CL_SEX/1.0",
        "/rest/dataflow/ILO",
        "/rest/v2/structure/dataflow/ILO",
    ],
)
def test_trailing_slash(http: httpx.Client, path: str) -> None:
    """A trailing slash names the same resource (pysdmx's RegistryClient always adds one
    when there is no query string); answering it, or redirecting to the slashless URL, is fine.
    """
    fmt = FORMAT["sdmx-ml-2.1"]
    plain = http.get(path, headers={"Accept": fmt.media_type})
    assert plain.status_code == 200
    slashed = http.get(path + "/", headers={"Accept": fmt.media_type}, follow_redirects=True)
    assert slashed.status_code == 200, slashed.text[:300]
    assert etree.fromstring(slashed.content).find("{*}Structures") is not None


# --- How the clients report errors ------------------------------------------------------------


@pytest.fixture(scope="module")
def client(ilms_server: Server) -> sdmx.Client:
    sdmx.add_source(
        {"id": "ILMS_TEST", "url": ilms_server.rest, "name": "ILMS (conformance tests)"},
        override=True,
    )
    return sdmx.Client("ILMS_TEST")


def test_sdmx1_not_found(client: sdmx.Client) -> None:
    """sdmx1 raises requests' HTTPError on a 404, before parsing: the SDMX error is in it."""
    with pytest.raises(requests.HTTPError) as raised:
        client.codelist("CL_NOPE", agency_id="ILO")
    response = raised.value.response
    assert response is not None
    assert response.status_code == 404
    assert error_code(response) == 100


def test_sdmx1_not_implemented(client: sdmx.Client) -> None:
    """sdmx1 turns a 501 into NotImplementedError."""
    with pytest.raises(NotImplementedError, match="availableconstraint"):
        client.availableconstraint("DF_ILMS_A01")


def test_pysdmx_not_found(ilms_server: Server) -> None:
    registry = RegistryClient(ilms_server.rest_v2, timeout=30.0)
    with pytest.raises(NotFound):
        registry.get_dataflow_details("ILO", "DF_NOPE", detail="core")


def test_error_messages_read_by_the_clients(http: httpx.Client) -> None:
    """pysdmx reads an SDMX-ML error message into an exception carrying its code and text."""
    from pysdmx.errors import Invalid
    from pysdmx.io import read_sdmx

    for fmt in (FORMAT["sdmx-ml-2.1"], FORMAT["sdmx-ml-3.0"]):
        path = _path(
            fmt, "/rest/codelist/ILO/CL_NOPE/1.0", "/rest/v2/structure/codelist/ILO/CL_NOPE/1.0"
        )
        response = http.get(path, headers={"Accept": fmt.media_type})
        with pytest.raises(Invalid, match="100"):
            read_sdmx(response.text, validate=False)
