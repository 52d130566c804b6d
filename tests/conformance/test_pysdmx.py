"""pysdmx against the live service: its reader on every format it reads, and its FMR client.

pysdmx reads SDMX-ML 2.1, SDMX-ML 3.0 and SDMX-JSON 2.0 structure messages (not SDMX-JSON
1.0: "This flavour of SDMX-JSON is not supported"). Its model keeps one language (English)
and no code hierarchy, so names in every language and parents are checked elsewhere (sdmx1,
test_sdmx_json.py). ``RegistryClient`` speaks SDMX REST v2 with SDMX-JSON 2.0 (or Fusion-JSON).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from lxml import etree
from pysdmx.api.fmr import RegistryClient
from pysdmx.errors import NotImplemented as PysdmxNotImplemented
from pysdmx.io import read_sdmx

from tests.conformance.conftest import (
    FORMAT,
    Constraint,
    Dsd,
    Format,
    Scheme,
    Server,
    catalogue,
    fetch,
)

pytestmark = pytest.mark.conformance

CAT = catalogue()
FLOWS = sorted(CAT.flows)
READ_FORMATS = [FORMAT["sdmx-ml-2.1"], FORMAT["sdmx-ml-3.0"], FORMAT["sdmx-json-2.0"]]
ROLE = {"dimension": "DIMENSION", "time": "DIMENSION", "attribute": "ATTRIBUTE"}
ROLE |= {"measure": "MEASURE"}
ORGANISATION_SCHEMES = {"AgencyScheme", "DataProviderScheme"}
V2_TYPE = {"contentconstraint": "dataconstraint"}
_REF = re.compile(
    r"(?:^|=)(?P<agency>[\w.@-]+):(?P<id>\w+)\((?P<version>[\w.+~*-]+)\)(?:\.(?P<item>\w+))?$"
)


def ref_id(ref: Any) -> str:
    """The id (or item id) in a URN or short reference, ``...=ILO:DF_X(1.0)`` -> ``DF_X``."""
    found = _REF.search(str(ref))
    assert found is not None, f"not a reference: {ref!r}"
    return found["item"] or found["id"]


def structures(text: str) -> list[Any]:
    # The SDMX-ML schemas are checked by test_schemas.py; pysdmx's JSON validation needs an
    # optional extra (pysdmx[json]).
    return list(read_sdmx(text, validate=False).structures or ())


def of_type(found: Sequence[Any], name: str) -> list[Any]:
    return [s for s in found if type(s).__name__ == name]


# --- Comparisons with the files ---------------------------------------------------------------


def check_scheme(got: Any, expected: Scheme) -> None:
    assert (got.agency if isinstance(got.agency, str) else got.agency.id) == expected.agency
    assert (got.id, got.version) == (expected.id, expected.version)
    # pysdmx 1.21's SDMX-JSON reader names agency and provider schemes by their fixed ids
    if not (expected.kind in ORGANISATION_SCHEMES and got.name == expected.id):
        assert got.name == expected.names["en"]
    assert [(i.id, i.name) for i in got.items] == [(i.id, i.names["en"]) for i in expected.items]


def check_dsd(got: Any, expected: Dsd, *, codes: bool) -> None:
    """Components in order per role, their concepts and, when ``codes``, full codelists."""
    assert (got.id, got.version, got.name) == (expected.id, expected.version, expected.names["en"])
    components = list(got.components)
    for role in ("DIMENSION", "ATTRIBUTE", "MEASURE"):
        ids = [c.id for c in components if c.role.name == role]
        assert ids == [c.id for c in expected.components if ROLE[c.role] == role], role
    assert [c.id for c in components if c.role.name == "DIMENSION"][-1] == "TIME_PERIOD"
    by_id = {c.id: c for c in components}
    for component in expected.components:
        found = by_id[component.id]
        concept = found.concept
        concept_ref = (concept.id, concept.item_id) if hasattr(concept, "item_id") else None
        if concept_ref is None:  # a resolved Concept
            assert concept.id == component.concept[1], component.id
        else:
            assert concept_ref == component.concept, component.id
        if not codes:
            continue
        if component.codelist is None:
            assert found.local_codes is None, component.id
        else:
            assert found.local_codes is not None, f"{component.id}: no codelist"
            check_scheme(found.local_codes, CAT.codelist(component.codelist))


def check_constraint(got: Any, expected: Constraint) -> None:
    assert (got.id, got.name) == (expected.id, expected.names["en"])
    attachment = got.constraint_attachment
    assert sorted(map(ref_id, attachment.dataflows or ())) == sorted(expected.dataflows)
    providers = [ref_id(attachment.data_provider)] if attachment.data_provider else []
    assert providers == list(expected.providers)
    assert len(got.cube_regions) == 1
    region = got.cube_regions[0]
    assert region.is_included is expected.include
    assert {kv.id: tuple(v.value for v in kv.values) for kv in region.key_values} == expected.cube


# --- The reader on every format ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One query, and what pysdmx must find in the answer."""

    label: str
    resource: str  # SDMX REST v1 resource
    agency: str
    id: str  # an id, or "all"
    version: str
    check: Callable[[list[Any]], None]

    def path(self, fmt: Format) -> str:
        """REST v1 for SDMX-ML 2.1, REST v2 for the SDMX 3.0 formats."""
        if fmt.name == "sdmx-ml-2.1":
            return f"/rest/{self.resource}/{self.agency}/{self.id}/{self.version}"
        kind = V2_TYPE.get(self.resource, self.resource)
        resource_id = "*" if self.id == "all" else self.id
        version = "~" if self.version == "latest" else self.version
        return f"/rest/v2/structure/{kind}/{self.agency}/{resource_id}/{version}"


def _scheme_case(scheme: Scheme) -> Case:
    def check(found: list[Any]) -> None:
        assert len(found) == 1
        check_scheme(found[0], scheme)

    return Case(scheme.id, scheme.kind.lower(), scheme.agency, scheme.id, scheme.version, check)


def _dsd_case(dsd: Dsd) -> Case:
    def check(found: list[Any]) -> None:
        (got,) = of_type(found, "DataStructureDefinition")
        check_dsd(got, dsd, codes=False)

    return Case(dsd.id, "datastructure", dsd.agency, dsd.id, dsd.version, check)


def _check_flows(found: list[Any]) -> None:
    flows = of_type(found, "Dataflow")
    assert sorted(f.id for f in flows) == FLOWS
    for flow in flows:
        expected = CAT.flows[flow.id]
        assert (flow.name, ref_id(flow.structure)) == (expected.names["en"], expected.dsd)


def _check_constraints(found: list[Any]) -> None:
    constraints = of_type(found, "DataConstraint")
    assert sorted(c.id for c in constraints) == sorted(CAT.constraints)
    for constraint in constraints:
        check_constraint(constraint, CAT.constraints[constraint.id])


def _check_categorisations(found: list[Any]) -> None:
    expected = {c: (f.id, cat) for f in CAT.flows.values() for c, cat in f.categorisations.items()}
    got = {c.id: (ref_id(c.source), ref_id(c.target)) for c in of_type(found, "Categorisation")}
    assert got == expected


def _check_agreements(found: list[Any]) -> None:
    expected = {a: (f.id, p) for f in CAT.flows.values() for a, p in f.agreements.items()}
    agreements = of_type(found, "ProvisionAgreement")
    assert {a.id: (ref_id(a.dataflow), ref_id(a.provider)) for a in agreements} == expected


def _cases() -> list[Case]:
    cases = [_scheme_case(s) for s in CAT.codelist_files]
    cases += [_dsd_case(d) for _, d in sorted(CAT.dsds.items())]
    cases += [
        Case("all dataflows", "dataflow", "ILO", "all", "latest", _check_flows),
        Case("all constraints", "contentconstraint", "ILO", "all", "latest", _check_constraints),
        Case(
            "all categorisations", "categorisation", "ILO", "all", "latest", _check_categorisations
        ),
        Case("all agreements", "provisionagreement", "ILO", "all", "latest", _check_agreements),
    ]
    for kind in ("CategoryScheme", "DataProviderScheme", "AgencyScheme"):
        cases += [_scheme_case(s) for s in CAT.of_kind(kind)]
    return cases


@pytest.mark.parametrize("fmt", READ_FORMATS, ids=str)
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.label)
def test_read_sdmx(http: httpx.Client, case: Case, fmt: Format) -> None:
    """``pysdmx.io.read_sdmx`` on the answer, checked against codelists/ and dsd/."""
    case.check(structures(fetch(http, case.path(fmt), fmt).text))


@pytest.mark.xfail(
    strict=True,
    raises=PysdmxNotImplemented,
    reason="pysdmx 1.21 reads SDMX-JSON 2.0 structure messages only, not 1.0",
)
def test_read_sdmx_json_10(http: httpx.Client) -> None:
    fmt = FORMAT["sdmx-json-1.0"]
    found = structures(fetch(http, "/rest/codelist/ILO/CL_SEX/latest", fmt).text)
    check_scheme(found[0], CAT.codelist("CL_SEX"))


@pytest.mark.parametrize("flow_id", FLOWS)
def test_dataflow_with_all_references_in_sdmx_json(http: httpx.Client, flow_id: str) -> None:
    """SDMX-JSON 2.0, references=all: pysdmx resolves the DSD's concepts and codelists."""
    expected = CAT.flows[flow_id]
    path = f"/rest/v2/structure/dataflow/ILO/{flow_id}/~?references=all"
    found = structures(fetch(http, path, FORMAT["sdmx-json-2.0"]).text)
    (flow,) = of_type(found, "Dataflow")
    assert (flow.id, flow.name) == (flow_id, expected.names["en"])
    check_dsd(flow.structure, CAT.dsds[expected.dsd], codes=True)
    (dsd,) = of_type(found, "DataStructureDefinition")
    assert dsd.id == expected.dsd
    constraints = of_type(found, "DataConstraint")
    assert sorted(c.id for c in constraints) == sorted(expected.constraints)
    for constraint in constraints:
        check_constraint(constraint, CAT.constraints[constraint.id])
    agreements = of_type(found, "ProvisionAgreement")
    assert {a.id: ref_id(a.provider) for a in agreements} == expected.agreements
    categorisations = of_type(found, "Categorisation")
    assert {c.id: ref_id(c.target) for c in categorisations} == expected.categorisations
    (providers,) = of_type(found, "DataProviderScheme")
    check_scheme(providers, CAT.of_kind("DataProviderScheme")[0])
    codelists = {c.id: c for c in of_type(found, "Codelist")}
    for codelist_id in set(CAT.dsds[expected.dsd].codelists.values()):
        check_scheme(codelists[codelist_id], CAT.codelist(codelist_id))


ALL_FLOWS = "/rest/dataflow/ILO/all/latest?references=all"


@pytest.mark.parametrize("fmt", READ_FORMATS[:2], ids=str)
def test_dataflows_with_all_references_in_sdmx_ml(http: httpx.Client, fmt: Format) -> None:
    """pysdmx resolves every reference of an SDMX-ML message and fails on a dangling one."""
    found = structures(fetch(http, ALL_FLOWS, fmt).text)
    assert sorted(f.id for f in of_type(found, "Dataflow")) == FLOWS
    for dsd in of_type(found, "DataStructureDefinition"):
        check_dsd(dsd, CAT.dsds[dsd.id], codes=True)


def test_references_all_is_self_contained(http: httpx.Client) -> None:
    """Every codelist that a ``references=all`` message refers to is in the message."""
    root = etree.fromstring(fetch(http, ALL_FLOWS, FORMAT["sdmx-ml-2.1"]).content)
    present = {e.get("id") for e in root.iterfind("{*}Structures/{*}Codelists/{*}Codelist")}
    referenced = {r.get("id"): r for r in root.iter("Ref") if r.get("class") == "Codelist"}
    dangling = {}
    for codelist_id, ref in referenced.items():
        if codelist_id not in present:
            owner = next((a for a in ref.iterancestors() if a.get("urn")), ref)
            dangling[codelist_id] = owner.get("urn")
    assert not dangling, f"{len(dangling)} codelists referred to but not sent: {dangling}"


# --- The FMR client ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(ilms_server: Server) -> RegistryClient:
    """pysdmx's FMR client on SDMX REST v2; it asks for SDMX-JSON 2.0."""
    return RegistryClient(ilms_server.rest_v2, timeout=60.0)


def test_registry_data_structures(registry: RegistryClient) -> None:
    """``get_data_structures``: every DSD, with its codelists (references=descendants)."""
    found = registry.get_data_structures("ILO")
    assert sorted(d.id for d in found) == sorted(CAT.dsds)
    for dsd in found:
        check_dsd(dsd, CAT.dsds[dsd.id], codes=True)


@pytest.mark.parametrize("scheme_id", sorted(s.id for s in CAT.of_kind("ConceptScheme")))
def test_registry_concepts(registry: RegistryClient, scheme_id: str) -> None:
    """``get_concepts`` (references=codelist): the concepts, with their shipped codelists."""
    got = registry.get_concepts("ILO", scheme_id)
    check_scheme(got, CAT.schemes["ConceptScheme", scheme_id])
    enumerated = {c.id: c.codes for c in got.items if c.codes is not None}
    shipped = {s.id for s in CAT.of_kind("Codelist")}
    for codelist in enumerated.values():
        if codelist.id in shipped:
            check_scheme(codelist, CAT.codelist(codelist.id))


@pytest.mark.parametrize("flow_id", FLOWS)
def test_registry_dataflow_details(registry: RegistryClient, flow_id: str) -> None:
    """``get_dataflow_details(detail="providers")``: names, DSD and the data providers."""
    expected = CAT.flows[flow_id]
    info = registry.get_dataflow_details("ILO", flow_id, detail="providers")
    assert (info.id, info.version, info.name) == (flow_id, "1.0", expected.names["en"])
    assert ref_id(info.dsd_ref) == expected.dsd
    assert sorted(p.id for p in info.providers) == sorted(expected.agreements.values())


def test_registry_providers_with_flows(registry: RegistryClient) -> None:
    providers = registry.get_providers("ILO", with_flows=True)
    expected: dict[str, set[str]] = {}
    for flow in CAT.flows.values():
        for provider in flow.agreements.values():
            expected.setdefault(provider, set()).add(flow.id)
    assert {p.id: {f.id for f in p.dataflows} for p in providers} == expected


def test_registry_categories(registry: RegistryClient) -> None:
    scheme = registry.get_categories("ILO", "CAS_ILMS", "1.0")
    check_scheme(scheme, CAT.schemes["CategoryScheme", "CAS_ILMS"])
    expected: dict[str, set[str]] = {}
    for flow in CAT.flows.values():
        for category in flow.categorisations.values():
            expected.setdefault(category, set()).add(flow.id)
    assert {c.id: {f.id for f in c.dataflows} for c in scheme.items} == expected


def test_registry_schema(registry: RegistryClient) -> None:
    """``get_schema`` queries the SDMX REST v2 ``schema`` resource: the dataflow's
    components, in the DSD's order (tests/api/test_schema.py checks the rest)."""
    schema = registry.get_schema("dataflow", "ILO", FLOWS[0], "1.0")
    ids = [c.id for c in schema.components]
    assert ids[:2] == ["REF_AREA", "FREQ"]
    assert "TIME_PERIOD" in ids
    assert "OBS_VALUE" in ids


_FLOW = CAT.flows[FLOWS[0]]


def _codes(registry: RegistryClient) -> None:
    for codelist in CAT.of_kind("Codelist"):
        check_scheme(registry.get_codes(codelist.agency, codelist.id), codelist)


def _dataflows(registry: RegistryClient) -> None:
    _check_flows(list(registry.get_dataflows("ILO")))


def _data_constraint(registry: RegistryClient) -> None:
    for constraint_id in _FLOW.constraints:
        got = registry.get_data_constraint("ILO", constraint_id)
        check_constraint(got, CAT.constraints[constraint_id])


def _providers(registry: RegistryClient) -> None:
    expected = CAT.of_kind("DataProviderScheme")[0]
    assert [p.id for p in registry.get_providers(expected.agency)] == expected.item_ids


def _agencies(registry: RegistryClient) -> None:
    expected = CAT.of_kind("AgencyScheme")[0]
    assert [a.id for a in registry.get_agencies(expected.agency)] == expected.item_ids


def _categorisation(registry: RegistryClient) -> None:
    for categorisation, category in _FLOW.categorisations.items():
        got = registry.get_categorisation("ILO", categorisation, "1.0")
        assert (ref_id(got.source), ref_id(got.target)) == (_FLOW.id, category)


def _provision_agreement(registry: RegistryClient) -> None:
    for agreement, provider in _FLOW.agreements.items():
        got = registry.get_provision_agreement("ILO", agreement, "1.0")
        assert (ref_id(got.dataflow), ref_id(got.provider)) == (_FLOW.id, provider)


#: RegistryClient calls whose URL has no query string: pysdmx ends those with a '/'.
SLASHED: dict[str, Callable[[RegistryClient], None]] = {
    "get_codes": _codes,
    "get_dataflows": _dataflows,
    "get_data_constraint": _data_constraint,
    "get_providers": _providers,
    "get_agencies": _agencies,
    "get_categorisation": _categorisation,
    "get_provision_agreement": _provision_agreement,
}


@pytest.mark.parametrize("call", list(SLASHED))
def test_registry_queries_ending_with_a_slash(registry: RegistryClient, call: str) -> None:
    """e.g. ``get_codes("ILO", "CL_SEX")`` GETs /rest/v2/structure/codelist/ILO/CL_SEX/ (pysdmx
    ``_add_query_slash``), which SDMX services such as the FMR answer like the slashless URL."""
    SLASHED[call](registry)
