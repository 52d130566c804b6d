"""The structure API over HTTP (TestClient), on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from lxml import etree

from tests.api.test_data_query import second_over
from tests.jsonschemas import validate_sdmx_json
from tests.xsd import validate_sdmx_ml

ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON10 = "application/vnd.sdmx.structure+json;version=1.0.0"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"
NS21 = {
    "m": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
    "s": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}


def xml(response: Any) -> etree._Element:
    return etree.fromstring(response.content)


def ids(root: etree._Element, element: str) -> list[str]:
    """Ids of the maintainable artefacts of one kind (not of references to them)."""
    return [e.get("id") for e in root.iterfind(f"m:Structures/*/s:{element}", NS21)]


def codes(root: etree._Element, codelist: str) -> list[str]:
    found = root.find(f".//s:Codelist[@id='{codelist}']", NS21)
    assert found is not None, f"{codelist} not in the message"
    return [c.get("id") for c in found.iterfind("s:Code", NS21)]


def error_code(response: Any) -> int:
    """The SDMX error code in an error message, whatever its format."""
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    found = xml(response).find(".//{*}ErrorMessage")
    assert found is not None, response.text[:300]
    return int(found.get("code"))


class TestFormats:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("/rest/codelist/ILO/CL_SEX/latest", ML21),
            ("/rest/v2/structure/codelist/ILO/CL_SEX/~", JSON20),
        ],
    )
    def test_defaults_per_api_version(self, client: Any, path: str, expected: str) -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == expected

    @pytest.mark.parametrize(
        ("accept", "validate"),
        [
            (ML21, lambda b: validate_sdmx_ml(b, "2.1")),
            (ML30, lambda b: validate_sdmx_ml(b, "3.0")),
            (JSON10, lambda b: validate_sdmx_json(b, "structure", "1.0")),
            (JSON20, lambda b: validate_sdmx_json(b, "structure", "2.0")),
        ],
    )
    def test_every_format_by_accept_is_schema_valid(
        self, client: Any, accept: str, validate: Any
    ) -> None:
        response = client.get(
            "/rest/dataflow/ILO/DF_ILMS_A05/latest?references=all", headers={"Accept": accept}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == accept
        validate(response.content)

    def test_format_parameter_overrides_accept(self, client: Any) -> None:
        response = client.get(
            "/rest/codelist/ILO/CL_SEX?format=sdmx-json", headers={"Accept": ML21}
        )
        assert response.status_code == 200
        assert "json" in response.headers["content-type"]
        assert response.json()["data"]["codelists"][0]["id"] == "CL_SEX"

    def test_q_values_pick_the_preferred_format(self, client: Any) -> None:
        accept = f"{ML21};q=0.5, {JSON20};q=0.9, */*;q=0.1"
        response = client.get("/rest/codelist/ILO/CL_SEX", headers={"Accept": accept})
        assert response.headers["content-type"] == JSON20

    def test_unsupported_type_is_406(self, client: Any) -> None:
        response = client.get("/rest/codelist/ILO/CL_SEX", headers={"Accept": "text/html"})
        assert response.status_code == 406
        assert error_code(response) == 1406


class TestCodelists:
    def test_codelist_is_the_ilo_one(self, client: Any) -> None:
        root = xml(client.get("/rest/codelist/ILO/CL_SEX/latest"))
        assert codes(root, "CL_SEX") == ["SEX_T", "SEX_M", "SEX_F", "SEX_O", "_Z"]
        names = {
            n.get("{http://www.w3.org/XML/1998/namespace}lang"): n.text
            for n in root.find(".//s:Codelist/c:Name", NS21).getparent().iterfind("c:Name", NS21)
        }
        assert set(names) == {"en", "fr", "es"}

    def test_v1_plus_lists_and_all(self, client: Any) -> None:
        root = xml(client.get("/rest/codelist/ILO/CL_SEX+CL_FREQ/all"))
        assert sorted(ids(root, "Codelist")) == ["CL_FREQ", "CL_SEX"]

    def test_v2_comma_lists_and_wildcards(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/codelist/*/CL_SEX,CL_FREQ/*")
        found = sorted(c["id"] for c in response.json()["data"]["codelists"])
        assert found == ["CL_FREQ", "CL_SEX"]

    @pytest.mark.parametrize("version", ["1.0", "1.+.0", "1+.0.0", "~", "*"])
    def test_v2_version_forms(self, client: Any, version: str) -> None:
        response = client.get(f"/rest/v2/structure/codelist/ILO/CL_SEX/{version}")
        assert response.status_code == 200, response.text
        assert [c["version"] for c in response.json()["data"]["codelists"]] == ["1.0"]

    def test_v2_version_that_does_not_exist(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/codelist/ILO/CL_SEX/2.+.0")
        assert response.status_code == 404
        assert error_code(response) == 100

    def test_item_query_v1(self, client: Any) -> None:
        root = xml(client.get("/rest/codelist/ILO/CL_SEX/latest/SEX_F+SEX_M"))
        assert sorted(codes(root, "CL_SEX")) == ["SEX_F", "SEX_M"]
        cl = root.find(".//s:Codelist", NS21)
        assert cl.get("isPartial") == "true"

    def test_item_query_v2(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/codelist/ILO/CL_ECO/1.0/ECO_ISIC4_A,ECO_ISIC4_B")
        items = response.json()["data"]["codelists"][0]["codes"]
        assert [c["id"] for c in items] == ["ECO_ISIC4_A", "ECO_ISIC4_B"]

    def test_unknown_item_is_404(self, client: Any) -> None:
        response = client.get("/rest/codelist/ILO/CL_SEX/latest/NOPE")
        assert response.status_code == 404
        assert error_code(response) == 100

    def test_accept_language_picks_json_names(self, client: Any) -> None:
        response = client.get(
            "/rest/codelist/ILO/CL_SEX?format=sdmx-json",
            headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"},
        )
        codelist = response.json()["data"]["codelists"][0]
        sexes = {c["id"]: c["name"] for c in codelist["codes"]}
        assert sexes["SEX_F"] == codelist["codes"][2]["names"]["fr"]
        assert sexes["SEX_F"] != codelist["codes"][2]["names"]["en"]
        assert response.headers["content-language"] == "fr-CH" or response.headers[
            "content-language"
        ].startswith("fr")


class TestReferences:
    def test_dataflow_with_references_all(self, client: Any) -> None:
        root = xml(client.get("/rest/dataflow/ILO/DF_ILMS_A05/latest?references=all"))
        assert ids(root, "Dataflow") == ["DF_ILMS_A05"]
        assert ids(root, "DataStructure") == ["DSD_ILMS_STOCK"]
        codelists = set(ids(root, "Codelist"))
        assert {"CL_AREA", "CL_SEX", "CL_ECO", "CL_CBR", "CL_OBS_STATUS"} <= codelists
        assert {"CS_ILOSTAT", "CS_CLASSIF_TYPE", "CS_NOTE_TYPE"} <= set(ids(root, "ConceptScheme"))
        assert "CR_ILMS_A05" in ids(root, "ContentConstraint")
        assert ids(root, "CategoryScheme") == ["CAS_ILMS"]
        assert len(ids(root, "ProvisionAgreement")) == 10

    def test_children_of_a_dataflow_is_its_dsd(self, client: Any) -> None:
        root = xml(client.get("/rest/dataflow/ILO/DF_ILMS_B10/latest?references=children"))
        assert ids(root, "DataStructure") == ["DSD_ILMS_FLOW"]
        assert ids(root, "Codelist") == []

    def test_parents_of_a_codelist_are_the_dsds(self, client: Any) -> None:
        root = xml(client.get("/rest/codelist/ILO/CL_SEX/latest?references=parents"))
        assert sorted(ids(root, "DataStructure")) == [
            "DSD_ILMS_ABROAD",
            "DSD_ILMS_FLOW",
            "DSD_ILMS_STOCK",
        ]
        assert ids(root, "Dataflow") == []

    def test_v2_ancestors_and_several_values(self, client: Any) -> None:
        response = client.get(
            "/rest/v2/structure/codelist/ILO/CL_CPR/~?references=ancestors,children"
        )
        data = response.json()["data"]
        # CL_CPR is used by the module C DSD and, as a core representation, by the ILOSTAT
        # concept scheme CS_CLASSIF_TYPE, whose parents are every DSD: ancestors follow both.
        assert "DSD_ILMS_ABROAD" in {d["id"] for d in data["dataStructures"]}
        assert [c["id"] for c in data["conceptSchemes"]] == ["CS_CLASSIF_TYPE"]
        flows = {d["id"] for d in data["dataflows"]}
        assert "DF_ILMS_C18_XRET" in flows
        assert {c["id"] for c in data["categorisations"]} >= {"CAT_DF_ILMS_C18_XRET"}
        assert "codelists" in data
        assert [c["id"] for c in data["codelists"]] == ["CL_CPR"]

    def test_parents_only_one_level(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/codelist/ILO/CL_CPR/~?references=parents")
        data = response.json()["data"]
        assert [d["id"] for d in data["dataStructures"]] == ["DSD_ILMS_ABROAD"]
        assert "dataflows" not in data or data["dataflows"] == []

    def test_references_by_type(self, client: Any) -> None:
        root = xml(client.get("/rest/dataflow/ILO/DF_ILMS_C13/latest?references=codelist"))
        assert "CL_CRS" in ids(root, "Codelist")
        assert ids(root, "DataStructure") == []


class TestDetail:
    def test_allstubs(self, client: Any) -> None:
        root = xml(client.get("/rest/codelist/ILO/CL_SEX/latest?detail=allstubs"))
        codelist = root.find(".//s:Codelist", NS21)
        assert codelist.get("isExternalReference") == "true"
        assert codelist.get("structureURL", "").endswith("/rest/codelist/ILO/CL_SEX/1.0")
        assert codes(root, "CL_SEX") == []

    def test_referencestubs_keeps_the_main_artefact_whole(self, client: Any) -> None:
        root = xml(
            client.get("/rest/dataflow/ILO/DF_ILMS_A05/latest?references=all&detail=referencestubs")
        )
        assert codes(root, "CL_SEX") == []
        flow = root.find(".//s:Dataflow", NS21)
        assert flow.get("isExternalReference") in (None, "false")
        validate_sdmx_ml(etree.tostring(root), "2.1")

    def test_referencepartial_cuts_codelists_to_the_constraint(self, client: Any) -> None:
        root = xml(
            client.get(
                "/rest/dataflow/ILO/DF_ILMS_A05/latest?references=all&detail=referencepartial"
            )
        )
        constraint = root.find(".//s:ContentConstraint[@id='CR_ILMS_A05']", NS21)
        allowed_eco = [
            v.text for v in constraint.iterfind(".//c:KeyValue[@id='ECO']/c:Value", NS21)
        ]
        assert sorted(codes(root, "CL_ECO")) == sorted(allowed_eco)
        assert root.find(".//s:Codelist[@id='CL_ECO']", NS21).get("isPartial") == "true"
        allowed_measures = [
            v.text for v in constraint.iterfind(".//c:KeyValue[@id='MEASURE']/c:Value", NS21)
        ]
        assert codes(root, "CL_MEASURE") == [
            c for c in codes(root, "CL_MEASURE") if c in allowed_measures
        ]
        assert len(codes(root, "CL_AREA")) > 300  # REF_AREA is not constrained: whole list
        validate_sdmx_ml(etree.tostring(root), "2.1")


class TestErrors:
    def test_unknown_artefact(self, client: Any) -> None:
        response = client.get("/rest/codelist/ILO/CL_NOPE/latest")
        assert response.status_code == 404
        assert error_code(response) == 100
        validate_sdmx_ml(response.content, "2.1")

    def test_unknown_artefact_v2_json(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/dataflow/ILO/DF_NOPE")
        assert response.status_code == 404
        assert error_code(response) == 100
        validate_sdmx_json(response.content, "structure", "2.0")

    @pytest.mark.parametrize(
        "path",
        [
            "/rest/codelist/ILO/CL_SEX?detail=everything",
            "/rest/codelist/ILO/CL_SEX?references=cousins",
            "/rest/codelist/IL O/CL_SEX",
            "/rest/v2/structure/codelist/ILO/CL_SEX/1.0.0.0",
        ],
    )
    def test_bad_syntax(self, client: Any, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 400, response.text
        assert error_code(response) == 140

    @pytest.mark.parametrize(
        "path",
        [
            "/rest/hierarchicalcodelist/ILO/all/latest",
            "/rest/metadatastructure",
            "/rest/schema/dataflow/ILO/DF_ILMS_A01/1.0",
            "/rest/metadata/metadataflow/ILO/all/latest",
            "/rest/v2/data/dataflow/ILO",  # data of every dataflow of an agency
            "/rest/v2/structure/hierarchy/ILO/*/*",
        ],
    )
    def test_unimplemented_standard_resources_are_501(self, client: Any, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 501
        assert error_code(response) == 501

    def test_unknown_path_is_an_sdmx_error(self, client: Any) -> None:
        response = client.get("/rest/v2/nonsense/here")
        assert response.status_code == 404
        assert error_code(response) == 100

    def test_wrong_method_is_an_sdmx_error(self, client: Any) -> None:
        response = client.delete("/rest/codelist/ILO/CL_SEX/1.0")
        assert response.status_code == 405
        assert error_code(response) == 140

    def test_cors_on_errors(self, client: Any) -> None:
        response = client.get(
            "/rest/codelist/ILO/CL_NOPE", headers={"Origin": "https://example.org"}
        )
        assert response.status_code == 404
        assert response.headers["access-control-allow-origin"] == "*"


class TestHttp:
    def test_cors_preflight(self, client: Any) -> None:
        response = client.options(
            "/rest/codelist/ILO/CL_SEX",
            headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
        )
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "*"
        assert "GET" in response.headers["access-control-allow-methods"]

    def test_etag_and_304(self, client: Any) -> None:
        first = client.get("/rest/codelist/ILO/CL_AGE")
        etag = first.headers["etag"]
        again = client.get("/rest/codelist/ILO/CL_AGE", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = client.get("/rest/codelist/ILO/CL_AGE", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200

    def test_etag_differs_per_format(self, client: Any) -> None:
        xml_tag = client.get("/rest/codelist/ILO/CL_AGE").headers["etag"]
        json_tag = client.get("/rest/codelist/ILO/CL_AGE?format=sdmx-json").headers["etag"]
        assert xml_tag != json_tag

    def test_last_modified_and_304(self, client: Any) -> None:
        second_over()  # Last-Modified is given once the second of the last change is over
        first = client.get("/rest/codelist/ILO/CL_AGE")
        since = first.headers["last-modified"]
        again = client.get("/rest/codelist/ILO/CL_AGE", headers={"If-Modified-Since": since})
        assert again.status_code == 304
        old = client.get(
            "/rest/codelist/ILO/CL_AGE",
            headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        )
        assert old.status_code == 200

    def test_gzip_and_vary(self, client: Any) -> None:
        response = client.get("/rest/codelist/ILO/CL_AREA", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
        assert {"accept", "accept-language", "accept-encoding"} <= vary
        assert b"CL_AREA" in response.content  # httpx decompressed it
        raw = client.get("/rest/codelist/ILO/CL_AREA", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert len(gzip.compress(raw.content)) < len(raw.content)

    def test_gzip_refused_with_q0(self, client: Any) -> None:
        response = client.get(
            "/rest/codelist/ILO/CL_AREA", headers={"Accept-Encoding": "gzip;q=0, identity"}
        )
        assert "content-encoding" not in response.headers
        assert response.content.startswith(b"<?xml")

    def test_head_has_headers_and_no_body(self, client: Any) -> None:
        response = client.head("/rest/codelist/ILO/CL_SEX/latest")
        assert response.status_code == 200
        assert response.headers["etag"]
        assert response.content == b""


class TestOperations:
    def test_health(self, client: Any) -> None:
        assert client.get("/health").json()["status"] == "ok"

    def test_ready(self, client: Any) -> None:
        body = client.get("/ready").json()
        assert body["status"] == "ready"
        assert body["revision"]

    def test_every_dataflow_is_listed(self, client: Any) -> None:
        response = client.get("/rest/v2/structure/dataflow/ILO/*/~")
        flows = sorted(d["id"] for d in response.json()["data"]["dataflows"])
        assert len(flows) == 18
        assert flows[0] == "DF_ILMS_A01"
        assert json.dumps(flows).count("XRET") == 1
