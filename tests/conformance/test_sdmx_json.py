"""SDMX-JSON 1.0 and 2.0 content, read as plain JSON: no client reads SDMX-JSON 1.0 structure
messages (sdmx1 reads SDMX-JSON data only; pysdmx refuses 1.0), and pysdmx keeps one language
and no hierarchy. So names in every language, item order and parents are checked here."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conformance.conftest import FORMAT, Format, Scheme, catalogue, fetch

pytestmark = pytest.mark.conformance

CAT = catalogue()
JSON_FORMATS = [FORMAT["sdmx-json-1.0"], FORMAT["sdmx-json-2.0"]]
COLLECTION = {"Codelist": ("codelists", "codes"), "ConceptScheme": ("conceptSchemes", "concepts")}
_URN = re.compile(r"=(?P<agency>[\w.@-]+):(?P<id>\w+)\((?P<version>[\w.]+)\)(?:\.(?P<item>\w+))?$")


def _path(fmt: Format, resource: str, artefact_id: str) -> str:
    if fmt.name == "sdmx-json-1.0":
        return f"/rest/{resource}/ILO/{artefact_id}/latest"
    return f"/rest/v2/structure/{resource}/ILO/{artefact_id}/~"


def _urn(urn: str) -> tuple[str, ...]:
    found = _URN.search(urn)
    assert found is not None, urn
    return tuple(g for g in found.group("id", "item") if g)


@pytest.mark.parametrize("fmt", JSON_FORMATS, ids=str)
@pytest.mark.parametrize("scheme", CAT.codelist_files, ids=str)
def test_item_scheme(http: httpx.Client, scheme: Scheme, fmt: Format) -> None:
    collection, items_key = COLLECTION[scheme.kind]
    doc = fetch(http, _path(fmt, scheme.kind.lower(), scheme.id), fmt).json()
    assert set(doc["meta"]["contentLanguages"]) >= set(scheme.names)
    (got,) = doc["data"][collection]
    assert (got["agencyID"], got["id"], got["version"]) == (
        scheme.agency,
        scheme.id,
        scheme.version,
    )
    assert got["names"] == scheme.names
    assert got["name"] == scheme.names["en"]
    items: list[dict[str, Any]] = got[items_key]
    assert [i["id"] for i in items] == scheme.item_ids, "items not in the order of the file"
    assert [(i["id"], i["names"]) for i in items] == [(i.id, i.names) for i in scheme.items]
    assert [(i["id"], i.get("parent")) for i in items] == [(i.id, i.parent) for i in scheme.items]


@pytest.mark.parametrize("fmt", JSON_FORMATS, ids=str)
@pytest.mark.parametrize("dsd_id", sorted(CAT.dsds))
def test_data_structure(http: httpx.Client, dsd_id: str, fmt: Format) -> None:
    expected = CAT.dsds[dsd_id]
    doc = fetch(http, _path(fmt, "datastructure", dsd_id), fmt).json()
    (got,) = doc["data"]["dataStructures"]
    assert got["names"] == expected.names
    parts = got["dataStructureComponents"]
    dimension_list = parts["dimensionList"]
    if fmt.name == "sdmx-json-1.0":
        times = dimension_list["timeDimensions"]
        measures = [parts["measureList"]["primaryMeasure"]]
    else:
        times = [dimension_list["timeDimension"]]
        measures = parts["measureList"]["measures"]
    components = {
        "dimension": dimension_list["dimensions"],
        "time": times,
        "attribute": parts["attributeList"]["attributes"],
        "measure": measures,
    }
    for role, found in components.items():
        assert [c["id"] for c in found] == expected.ids(role), role
    by_id = {c["id"]: c for found in components.values() for c in found}
    for component in expected.components:
        found = by_id[component.id]
        assert _urn(found["conceptIdentity"]) == component.concept
        enumeration = found.get("localRepresentation", {}).get("enumeration")
        codelist = _urn(enumeration)[0] if enumeration else None
        assert codelist == component.codelist, component.id
