"""SDMX REST v2 schema (data validity) queries, read by pysdmx over real HTTP.

A live server (uvicorn) per store kind serves the shipped ILMS structures. pysdmx's
``RegistryClient.get_schema`` and ``get_dataflow_details`` must read the components of
ILO:DSD_ILMS_STOCK(1.0), the codes the context allows (ILO:CR_ILMS_A05 for the dataflow, and
the data provider's constraint too for a provision agreement) and the attributes' attachment.
Expectations come from the shipped structure files, read with pysdmx's own SDMX-ML reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from lxml import etree

from service.settings import PROJECT_ROOT
from tests.api.upload_helpers import STOCK_DIMENSIONS, STORES, fresh_settings
from tests.live import launch, stop
from tests.xsd import validate_sdmx_ml

pysdmx_fmr = pytest.importorskip("pysdmx.api.fmr")
pysdmx_io = pytest.importorskip("pysdmx.io")
pysdmx_errors = pytest.importorskip("pysdmx.errors")

FLOW = "/rest/v2/schema/dataflow/ILO/DF_ILMS_A05/1.0"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"
KEY_DIMENSIONS = list(STOCK_DIMENSIONS)


# --- what the shipped files say ----------------------------------------------------------------


def _read_structures(path: Path) -> Any:
    return pysdmx_io.read_sdmx(str(path)).structures


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    """The DSD, the A05 and THA provider constraints, and every codelist, as pysdmx reads the
    files under ``dsd/`` and ``codelists/``."""
    found: dict[str, Any] = {"codelists": {}, "constraints": {}}
    for path in sorted((PROJECT_ROOT / "codelists").glob("*.xml")):
        for artefact in _read_structures(path):
            if type(artefact).__name__ == "Codelist":
                found["codelists"][artefact.id] = artefact
    for path in sorted((PROJECT_ROOT / "dsd").glob("*.xml")):
        for artefact in _read_structures(path):
            kind = type(artefact).__name__
            if kind == "DataStructureDefinition" and artefact.id == "DSD_ILMS_STOCK":
                found["dsd"] = artefact
            elif kind in ("ContentConstraint", "DataConstraint"):
                found["constraints"][artefact.id] = artefact
    return found


def constraint_codes(constraint: Any) -> dict[str, list[str]]:
    """Component id -> the values the constraint's (single, included) cube region lists."""
    (region,) = [r for r in constraint.cube_regions if r.is_included]
    return {kv.id: [v.value for v in kv.values] for kv in region.key_values}


def enumeration_id(component: Any) -> str | None:
    """The id of a component's codelist (a DSD read alone refers to it by URN)."""
    if component.enumeration is not None:
        return str(component.enumeration.id)
    urn = component.local_enum_ref
    return urn.rsplit(":", 1)[-1].split("(")[0] if urn else None


def codelist_codes(shipped: dict[str, Any], component: Any) -> list[str]:
    codelist = shipped["codelists"][enumeration_id(component)]
    return [c.id for c in codelist.codes]


# --- the live server ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a live server over a store holding the shipped structures."""
    folder = tmp_path_factory.mktemp("schema")
    settings = fresh_settings(str(request.param), folder, "schema")
    proc, url = launch(settings.database_url, folder / "server.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def client(base: str) -> Any:
    return pysdmx_fmr.RegistryClient(f"{base}/rest/v2/")


def get(base: str, path: str, accept: str = JSON20, **params: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Accept": accept}, params=params, timeout=60)


def error_code(response: httpx.Response) -> int:
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    return int(xpath(response.content, "//*[local-name()='ErrorMessage']/@code")[0])


def xpath(xml: bytes, expression: str) -> list[Any]:
    return cast(list[Any], etree.fromstring(xml).xpath(expression))


# --- pysdmx ------------------------------------------------------------------------------------


def test_pysdmx_reads_the_dataflow_schema(client: Any, shipped: dict[str, Any]) -> None:
    schema = client.get_schema("dataflow", "ILO", "DF_ILMS_A05", "1.0")
    assert (schema.context, schema.agency, schema.id, schema.version) == (
        "dataflow",
        "ILO",
        "DF_ILMS_A05",
        "1.0",
    )
    dsd = shipped["dsd"]
    served = {c.id: c for c in schema.components}
    assert list(served) == [c.id for c in dsd.components]
    assert [c.id for c in schema.components.dimensions] == [*KEY_DIMENSIONS, "TIME_PERIOD"]
    assert [c.id for c in schema.components.measures] == ["OBS_VALUE"]

    allowed = constraint_codes(shipped["constraints"]["CR_ILMS_A05"])
    assert allowed["SEX"] == ["SEX_T", "SEX_M", "SEX_F"]  # the file, as read, says so
    for component in dsd.components:
        got = served[component.id]
        assert got.role == component.role, component.id
        if component.id != "OBS_VALUE":
            # pysdmx reads an SDMX 2.1 primary measure as required; the service accepts a
            # missing value (with OBS_STATUS), and says so: an optional measure.
            assert got.required == component.required, component.id
        assert got.attachment_level == component.attachment_level, component.id
        if enumeration_id(component) is None:
            assert got.enumeration is None, component.id
            continue
        want = codelist_codes(shipped, component)
        if component.id in allowed:
            want = [c for c in want if c in allowed[component.id]]
        assert [c.id for c in got.enumeration] == want, component.id
    # Unconstrained by CR_ILMS_A05: every area; constrained: only what it lists.
    assert len(served["REF_AREA"].enumeration) == len(codelist_codes(shipped, served["REF_AREA"]))
    assert [c.id for c in served["MEASURE"].enumeration] == ["MST_TEMP_NB"]
    assert [c.id for c in served["FREQ"].enumeration] == ["A"]


def test_pysdmx_reads_the_provision_agreement_schema(client: Any, shipped: dict[str, Any]) -> None:
    """The data provider's constraint narrows REF_AREA; the dataflow's still applies."""
    schema = client.get_schema("provisionagreement", "ILO", "PA_THA_ILMS_A05", "1.0")
    served = {c.id: c for c in schema.components}
    areas = constraint_codes(shipped["constraints"]["CR_ILMS_PROVIDER_THA"])["REF_AREA"]
    assert [c.id for c in served["REF_AREA"].enumeration] == areas == ["THA"]
    assert [c.id for c in served["SEX"].enumeration] == ["SEX_T", "SEX_M", "SEX_F"]
    assert [c.id for c in served["MEASURE"].enumeration] == ["MST_TEMP_NB"]


def test_pysdmx_reads_the_data_structure_schema(client: Any, shipped: dict[str, Any]) -> None:
    """No dataflow constraint applies to the data structure itself: whole codelists."""
    schema = client.get_schema("datastructure", "ILO", "DSD_ILMS_STOCK", "1.0")
    served = {c.id: c for c in schema.components}
    assert list(served) == [c.id for c in shipped["dsd"].components]
    for component in shipped["dsd"].components:
        if enumeration_id(component) is not None:
            got = [c.id for c in served[component.id].enumeration]
            assert got == codelist_codes(shipped, component), component.id


def test_pysdmx_reads_the_dataflow_details(client: Any, shipped: dict[str, Any]) -> None:
    info = client.get_dataflow_details("ILO", "DF_ILMS_A05", "1.0")
    assert (info.agency.id, info.id, info.version) == ("ILO", "DF_ILMS_A05", "1.0")
    served = {c.id: c for c in info.components}
    assert list(served) == [c.id for c in shipped["dsd"].components]
    assert [c.id for c in served["SEX"].enumeration] == ["SEX_T", "SEX_M", "SEX_F"]
    assert "THA" in {p.id for p in info.providers}


def test_pysdmx_unknown_dataflow_is_not_found(client: Any) -> None:
    with pytest.raises(pysdmx_errors.NotFound):
        client.get_schema("dataflow", "ILO", "DF_NO_SUCH_FLOW", "1.0")


# --- HTTP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [ML30, ML21])
def test_sdmx_ml_answers_are_schema_valid(base: str, accept: str) -> None:
    response = get(base, FLOW, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == accept
    validate_sdmx_ml(response.content, accept.rsplit("=", 1)[1])
    kinds = {
        etree.QName(e).localname
        for e in xpath(response.content, "//*[local-name()='Structures']/*")
    }
    # sdmx-rest doc/schema.md: structures, codelists, concept schemes (and constraints) only.
    assert kinds == {"DataStructures", "Codelists", "Concepts", "Constraints"} or kinds == {
        "DataStructures",
        "Codelists",
        "ConceptSchemes",
        "DataConstraints",
    }
    ids = set(xpath(response.content, "//*[local-name()='Structures']/*/*/@id"))
    assert {"DSD_ILMS_STOCK", "CR_ILMS_A05", "CL_SEX", "CS_ILOSTAT"} <= ids
    assert "CR_ILMS_A06" not in ids  # another dataflow's constraint


def test_json_answer_holds_the_structure_and_its_constraint(base: str) -> None:
    response = get(base, f"{FLOW}/")  # pysdmx adds the slash
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"dataStructures", "conceptSchemes", "codelists", "dataConstraints"}
    assert [d["id"] for d in data["dataStructures"]] == ["DSD_ILMS_STOCK"]
    assert [c["id"] for c in data["dataConstraints"]] == ["CR_ILMS_A05"]
    sex = next(c for c in data["codelists"] if c["id"] == "CL_SEX")
    assert [c["id"] for c in sex["codes"]] == ["SEX_T", "SEX_M", "SEX_F"]


def test_version_may_be_left_out_or_latest(base: str) -> None:
    full = get(base, FLOW).json()["data"]
    for path in (FLOW.removesuffix("/1.0"), FLOW.replace("/1.0", "/~")):
        response = get(base, path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["data"] == full, path


def test_parameters(base: str) -> None:
    for params in (
        {"dimensionAtObservation": "TIME_PERIOD"},
        {"dimensionAtObservation": "AllDimensions"},
        {"dimensionAtObservation": "REF_AREA", "explicitMeasure": "false"},
        {"deletion": "true"},
    ):
        assert get(base, FLOW, **params).status_code == 200, params
    for params in (
        {"dimensionAtObservation": "NOT_A_DIMENSION"},
        {"explicitMeasure": "maybe"},
        {"deletion": "yes please"},
    ):
        response = get(base, FLOW, **params)
        assert response.status_code == 400, (params, response.text)
        assert error_code(response) == 140


def test_deletion_schema_has_no_mandatory_attribute(base: str) -> None:
    data = get(base, FLOW, deletion="true").json()["data"]
    components = data["dataStructures"][0]["dataStructureComponents"]
    usages = {a.get("usage", "optional") for a in components["attributeList"]["attributes"]}
    assert usages == {"optional"}


def test_conditional_get(base: str) -> None:
    first = get(base, FLOW)
    again = httpx.get(
        f"{base}{FLOW}", headers={"Accept": JSON20, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/rest/v2/schema/dataflow/ILO/DF_NO_SUCH_FLOW/1.0",
        "/rest/v2/schema/dataflow/ILO/DF_ILMS_A05/9.9",
        "/rest/v2/schema/provisionagreement/ILO/PA_NOPE/1.0",
        "/rest/v2/schema/datastructure/ILO/DSD_NOPE/1.0",
        "/rest/v2/schema",
        "/rest/v2/schema/dataflow/ILO",
        "/rest/v2/schema/dataflow/ILO/DF_ILMS_A05/1.0/extra",
    ],
)
def test_unknown_is_404(base: str, path: str) -> None:
    response = get(base, path)
    assert response.status_code == 404, response.text
    assert error_code(response) == 100


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/rest/v2/schema/metadatastructure/ILO/MSD/1.0", {}),
        ("/rest/v2/schema/metadataflow/ILO/MDF/1.0", {}),
        ("/rest/v2/schema/metadataprovisionagreement/ILO/MPA/1.0", {}),
        (FLOW, {"asOf": "2026-01-01T00:00:00Z"}),
        ("/rest/schema/dataflow/ILO/DF_ILMS_A05/1.0", {}),  # v1: XML Schemas, not served
    ],
)
def test_not_implemented_is_501(base: str, path: str, params: dict[str, str]) -> None:
    response = get(base, path, **params)
    assert response.status_code == 501, response.text


def test_unknown_context_is_400(base: str) -> None:
    response = get(base, "/rest/v2/schema/codelist/ILO/CL_SEX/1.0")
    assert response.status_code == 400, response.text
    assert error_code(response) == 140


def test_an_xml_schema_is_not_offered(base: str) -> None:
    response = get(base, FLOW, "application/vnd.sdmx.schema+xml;version=3.0.0")
    assert response.status_code == 406, response.text
