"""sdmx1 (the ``sdmx`` package) as an SDMX REST client of the live service.

SDMX 2.1 side: a registered Source (REST v1, SDMX-ML 2.1), the way a user of sdmx1 would
query sdmx.ilo.org. SDMX 3.0 side: a Source declaring ``versions: ["3.0.0"]`` on /rest/v2, so
that sdmx1 builds REST v2 URLs, with an Accept header for SDMX-ML 3.0 (sdmx1 reads no
SDMX-JSON structure message). Everything received is compared with codelists/ and dsd/.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sdmx
from sdmx.exceptions import XMLParseError
from sdmx.model import common
from sdmx.model.common import TimeDimension

from tests.conformance.conftest import (
    ML30,
    Catalogue,
    Constraint,
    Dsd,
    Scheme,
    Server,
    catalogue,
    fetch,
)

pytestmark = pytest.mark.conformance

CAT = catalogue()
FLOWS = sorted(CAT.flows)
DSDS = sorted(CAT.dsds)
CODELIST_FILES = sorted((s.kind, s.id) for s in CAT.codelist_files)
RESOURCE = {"Codelist": "codelist", "ConceptScheme": "conceptscheme"}


@pytest.fixture(scope="module")
def client(ilms_server: Server) -> sdmx.Client:
    """sdmx1 on the SDMX REST v1 API (SDMX-ML 2.1, the sdmx1 default)."""
    sdmx.add_source(
        {"id": "ILMS_TEST", "url": ilms_server.rest, "name": "ILMS (conformance tests)"},
        override=True,
    )
    return sdmx.Client("ILMS_TEST")


@pytest.fixture(scope="module")
def client3(ilms_server: Server) -> sdmx.Client:
    """sdmx1 on the SDMX REST v2 API, asking for SDMX-ML 3.0."""
    accept = {"Accept": ML30}
    kinds = ("codelist", "conceptscheme", "datastructure", "dataflow", "categoryscheme")
    sdmx.add_source(
        {
            "id": "ILMS_TEST3",
            "url": ilms_server.rest_v2,
            "name": "ILMS, SDMX 3.0 (conformance tests)",
            "versions": ["3.0.0"],
            "headers": dict.fromkeys(kinds, accept),
        },
        override=True,
    )
    return sdmx.Client("ILMS_TEST3")


@pytest.fixture(autouse=True)
def _no_client_cache() -> Iterator[None]:
    yield
    sdmx.Client.cache.clear()


# --- Comparisons with the files ---------------------------------------------------------------


def _parent(item: Any) -> str | None:
    parent = item.parent
    return parent.id if isinstance(parent, common.Item) else None


def assert_scheme(got: Any, expected: Scheme) -> None:
    """An sdmx1 item scheme holds what the file holds: ids, names in every language, parents."""
    where = f"{expected.kind} {expected.id}"
    assert not got.is_external_reference, f"{where} came as a stub"
    assert (got.maintainer.id, got.id, got.version) == (
        expected.agency,
        expected.id,
        expected.version,
    )
    assert dict(got.name.localizations) == expected.names, where
    # sdmx1 adds the maintainer of an agency scheme (SDMX), nameless, to its items
    items = [i for i in got if not (i.id == got.maintainer.id and not i.name.localizations)]
    assert len(items) == len(expected.items), where
    assert {i.id: (dict(i.name.localizations), _parent(i)) for i in items} == {
        i.id: (i.names, i.parent) for i in expected.items
    }, where


def assert_dsd(msg: Any, expected: Dsd, cat: Catalogue) -> None:
    """The DSD in an sdmx1 message: components in order, concepts, full codelists."""
    dsd = msg.structure[expected.id]
    assert not dsd.is_external_reference
    assert dict(dsd.name.localizations) == expected.names
    dimensions = list(dsd.dimensions.components)
    assert [d.id for d in dimensions] == expected.ids("dimension", "time")
    assert isinstance(dimensions[-1], TimeDimension)
    assert dimensions[0].id == "REF_AREA"
    assert dimensions[-1].id == "TIME_PERIOD"
    assert [a.id for a in dsd.attributes.components] == expected.ids("attribute")
    assert [m.id for m in dsd.measures.components] == expected.ids("measure")
    got = {c.id: c for c in [*dimensions, *dsd.attributes.components, *dsd.measures.components]}
    for component in expected.components:
        found = got[component.id]
        concept = found.concept_identity
        assert (concept.parent.id, concept.id) == component.concept, component.id
        representation = found.local_representation
        enumerated = representation.enumerated if representation is not None else None
        if component.codelist is None:
            assert enumerated is None, component.id
            continue
        codelist = msg.codelist[component.codelist]
        assert enumerated is codelist, f"{component.id} is not enumerated by its codelist"
        assert_scheme(codelist, cat.codelist(component.codelist))
    for scheme_id in {c.concept[0] for c in expected.components}:
        assert_scheme(msg.concept_scheme[scheme_id], cat.schemes["ConceptScheme", scheme_id])


def assert_constraint(got: Any, expected: Constraint) -> None:
    """Names, role, attachment and cube region.

    sdmx1 2.28 drops the cube region of a constraint attached to a data provider only (it
    resolves key values through a DSD, and a provider has none): those are checked in name,
    role and attachment only."""
    assert dict(got.name.localizations) == expected.names
    assert got.role.role.name == {"Allowed": "allowable", "Actual": "actual"}[expected.role]
    assert sorted(a.id for a in got.content) == sorted(expected.dataflows + expected.providers)
    if not expected.dataflows:
        return
    assert len(got.data_content_region) == 1
    region = got.data_content_region[0]
    assert region.included in (expected.include, str(expected.include).lower())
    members = {dim.id: tuple(v.value for v in sel.values) for dim, sel in region.member.items()}
    assert members == expected.cube


# --- SDMX REST v1, SDMX-ML 2.1 ----------------------------------------------------------------


def test_every_dataflow_is_listed(client: sdmx.Client, ilms_server: Server) -> None:
    """``client.dataflow()`` lists exactly the dataflows of dsd/ (and so all are tested)."""
    msg = client.dataflow(agency_id="ILO")
    assert msg.response.url == f"{ilms_server.rest}/dataflow/ILO/all/latest"
    assert sorted(msg.dataflow) == FLOWS
    for flow_id, flow in msg.dataflow.items():
        assert dict(flow.name.localizations) == CAT.flows[flow_id].names
        assert flow.structure.id == CAT.flows[flow_id].dsd


@pytest.mark.parametrize("flow_id", FLOWS)
def test_dataflow_with_all_references(
    client: sdmx.Client, ilms_server: Server, flow_id: str
) -> None:
    """references=all: the dataflow, its DSD, every codelist and concept scheme in full, its
    constraint and cube region, categorisation, category scheme, agreements and providers."""
    expected = CAT.flows[flow_id]
    msg = client.dataflow(flow_id, agency_id="ILO", params={"references": "all"})
    assert msg.response.url == (f"{ilms_server.rest}/dataflow/ILO/{flow_id}/latest?references=all")

    assert list(msg.dataflow) == [flow_id]
    flow = msg.dataflow[flow_id]
    assert dict(flow.name.localizations) == expected.names
    assert (flow.maintainer.id, flow.version) == (expected.agency, expected.version)
    assert flow.structure is msg.structure[expected.dsd]
    assert list(msg.structure) == [expected.dsd]
    assert_dsd(msg, CAT.dsds[expected.dsd], CAT)

    assert expected.constraints, f"{flow_id} has no constraint in dsd/"
    assert sorted(msg.constraint) == sorted(expected.constraints)
    for constraint_id in expected.constraints:
        assert_constraint(msg.constraint[constraint_id], CAT.constraints[constraint_id])

    assert {k: c.category.id for k, c in msg.categorisation.items()} == expected.categorisations
    assert all(c.artefact is flow for c in msg.categorisation.values())
    assert_scheme(msg.category_scheme["CAS_ILMS"], CAT.schemes["CategoryScheme", "CAS_ILMS"])

    agreements = msg.provisionagreement
    assert {k: a.data_provider.id for k, a in agreements.items()} == expected.agreements
    assert {a.structure_usage.id for a in agreements.values()} == {flow_id}
    providers = CAT.of_kind("DataProviderScheme")
    assert len(providers) == 1
    assert_scheme(msg.organisation_scheme[providers[0].id], providers[0])


@pytest.mark.parametrize("dsd_id", DSDS)
def test_datastructure(client: sdmx.Client, dsd_id: str) -> None:
    """sdmx1's default for one DSD is references=all: its concepts and codelists come too."""
    msg = client.datastructure(dsd_id, agency_id="ILO")
    assert msg.response.url.endswith(f"/datastructure/ILO/{dsd_id}/latest?references=all")
    assert_dsd(msg, CAT.dsds[dsd_id], CAT)
    assert sorted(msg.dataflow) == sorted(f for f, v in CAT.flows.items() if v.dsd == dsd_id)


@pytest.mark.parametrize(("kind", "scheme_id"), CODELIST_FILES)
def test_codelist_files(client: sdmx.Client, kind: str, scheme_id: str) -> None:
    """Every codelist and concept scheme of codelists/, e.g. ``client.codelist("CL_SEX")``."""
    msg: Any = client.get(RESOURCE[kind], scheme_id, agency_id="ILO")
    collection = msg.codelist if kind == "Codelist" else msg.concept_scheme
    assert list(collection)[0] == scheme_id
    assert_scheme(collection[scheme_id], CAT.schemes[kind, scheme_id])


def test_category_scheme_with_its_categorisations(client: sdmx.Client) -> None:
    """sdmx1's default for category schemes is references=parentsandsiblings."""
    msg = client.categoryscheme("CAS_ILMS", agency_id="ILO")
    assert msg.response.url.endswith("references=parentsandsiblings")
    assert_scheme(msg.category_scheme["CAS_ILMS"], CAT.schemes["CategoryScheme", "CAS_ILMS"])
    expected = {c: f.id for f in CAT.flows.values() for c in f.categorisations}
    assert {k: c.artefact.id for k, c in msg.categorisation.items()} == expected
    assert sorted(msg.dataflow) == FLOWS


def test_constraints_and_agreements(client: sdmx.Client) -> None:
    """All constraints and provision agreements."""
    msg = client.contentconstraint(agency_id="ILO")
    assert sorted(msg.constraint) == sorted(CAT.constraints)
    for constraint_id, expected in CAT.constraints.items():
        if expected.dataflows:
            assert_constraint(msg.constraint[constraint_id], expected)
        else:  # sdmx1 2.28 does not read (logs a warning for) a provider attachment in 2.1
            assert dict(msg.constraint[constraint_id].name.localizations) == expected.names
    msg = client.provisionagreement(agency_id="ILO")
    expected_agreements = {a: f.id for f in CAT.flows.values() for a in f.agreements}
    assert {k: a.structure_usage.id for k, a in msg.provisionagreement.items()} == (
        expected_agreements
    )


@pytest.mark.parametrize("kind", ["AgencyScheme", "DataProviderScheme"])
def test_organisation_scheme_by_version(client: sdmx.Client, kind: str) -> None:
    (expected,) = CAT.of_kind(kind)
    resource = kind.lower()
    msg: Any = client.get(
        resource, expected.id, agency_id=expected.agency, version=expected.version
    )
    assert_scheme(msg.organisation_scheme[expected.id], expected)


@pytest.mark.parametrize("kind", ["AgencyScheme", "DataProviderScheme"])
def test_organisation_scheme_latest(client: sdmx.Client, kind: str) -> None:
    """sdmx1 asks for version ``latest`` by default: ``client.dataproviderscheme("ILO")``.

    SDMX-ML 2.1 fixes ``isFinal="false"`` on organisation schemes (structure XSD), so a
    ``latest`` that only picks final versions can never find one.
    """
    (expected,) = CAT.of_kind(kind)
    msg: Any = client.get(kind.lower(), agency_id=expected.agency)
    assert_scheme(msg.organisation_scheme[expected.id], expected)


# --- SDMX REST v2, SDMX-ML 3.0 ----------------------------------------------------------------


@pytest.mark.parametrize(("kind", "scheme_id"), CODELIST_FILES)
def test_v3_codelist_files(
    client3: sdmx.Client, ilms_server: Server, kind: str, scheme_id: str
) -> None:
    """sdmx1's REST v2 URL (version ``+``, latest stable) and its SDMX-ML 3.0 reader."""
    msg: Any = client3.get(RESOURCE[kind], scheme_id, agency_id="ILO")
    resource = RESOURCE[kind]
    assert msg.response.url == f"{ilms_server.rest_v2}/structure/{resource}/ILO/{scheme_id}/+"
    assert msg.response.headers["content-type"] == ML30
    collection = msg.codelist if kind == "Codelist" else msg.concept_scheme
    assert_scheme(collection[scheme_id], CAT.schemes[kind, scheme_id])


def test_v3_dataflows(client3: sdmx.Client, ilms_server: Server) -> None:
    msg = client3.dataflow(agency_id="ILO")
    assert msg.response.url == f"{ilms_server.rest_v2}/structure/dataflow/ILO/*/+"
    assert sorted(msg.dataflow) == FLOWS
    for flow_id, flow in msg.dataflow.items():
        assert dict(flow.name.localizations) == CAT.flows[flow_id].names
        assert flow.structure.id == CAT.flows[flow_id].dsd


@pytest.mark.parametrize("dsd_id", DSDS)
def test_v3_datastructure(client3: sdmx.Client, dsd_id: str) -> None:
    """One DSD with its children: concept schemes and codelists, read from SDMX-ML 3.0."""
    msg = client3.datastructure(dsd_id, agency_id="ILO", params={"references": "children"})
    assert msg.response.headers["content-type"] == ML30
    assert list(msg.structure) == [dsd_id]
    assert_dsd(msg, CAT.dsds[dsd_id], CAT)


@pytest.mark.parametrize("constraint_id", sorted(CAT.constraints))
def test_v3_data_constraint(http: httpx.Client, constraint_id: str) -> None:
    """sdmx1 has no ``dataconstraint`` resource: fetch with httpx, read with sdmx1."""
    expected = CAT.constraints[constraint_id]
    path = f"/rest/v2/structure/dataconstraint/ILO/{constraint_id}/~"
    msg: Any = sdmx.read_sdmx(io.BytesIO(fetch(http, path, ML30).content))
    assert list(msg.constraint) == [constraint_id]
    assert_constraint(msg.constraint[constraint_id], expected)


@pytest.mark.xfail(
    strict=True,
    raises=XMLParseError,
    reason="sdmx1 2.28's SDMX-ML 3.0 reader knows no <str:DataProviderSchemes> container "
    "(nor provision agreements); the message itself validates against the 3.0 XSD",
)
def test_v3_dataflow_with_all_references(client3: sdmx.Client) -> None:
    flow_id = FLOWS[0]
    msg = client3.dataflow(flow_id, agency_id="ILO", params={"references": "all"})
    assert sorted(msg.provisionagreement) == sorted(CAT.flows[flow_id].agreements)
