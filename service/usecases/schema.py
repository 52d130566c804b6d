"""Data validity (schema) queries: what data reported in a context must follow.

An SDMX 3.0 schema query (sdmx-rest v2 ``/schema/{context}/{agency}/{id}/{version}``) is
answered with an ordinary structure message, as sdmx-rest ``doc/schema.md`` says of the
structure formats: only the data structure, its concept schemes cut to the concepts it uses,
its codelists cut to the codes allowed in the context, and the Allowed constraints that apply
in that context (the data structure's; a dataflow's too; for a provision agreement, also the
agreement's and its data provider's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from service.errors import NoResultsFound, NotImplementedYet, QuerySyntaxError
from service.model import (
    Artefact,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    DataStructure,
    ProvisionAgreement,
)
from service.model.structures import allowed_codes
from service.model.types import StructureType, structure_type
from service.query.data import ALL_DIMENSIONS, boolean_parameter
from service.query.structure import VersionSelector, parse_as_of
from service.storage.structures import IndexEntry, StructureRepository, ref_key
from service.usecases.flows import FlowContext, resolve_flow, resolve_structure
from service.usecases.structure import (
    TYPE_ORDER,
    Selection,
    codes_by_codelist,
    cut_scheme,
    select_entries,
    used_concepts,
)

#: The contexts of data validity this service answers, and the artefact type each names.
CONTEXTS: dict[str, StructureType] = {
    "datastructure": StructureType.DATASTRUCTURE,
    "dataflow": StructureType.DATAFLOW,
    "provisionagreement": StructureType.PROVISIONAGREEMENT,
}
#: Standard contexts of reference metadata validity: this service holds no metadata structures.
METADATA_CONTEXTS = ("metadatastructure", "metadataflow", "metadataprovisionagreement")
_LATEST = VersionSelector.parse_v2("~")


@dataclass(frozen=True)
class SchemaQuery:
    """A parsed v2 schema query."""

    context: str
    agency: str
    resource_id: str
    version: VersionSelector
    #: None: the default (the time dimension, else ``AllDimensions``).
    dimension_at_observation: str | None = None
    explicit_measure: bool = False
    deletion: bool = False


def parse_schema_query(
    context: str,
    agency: str,
    resource_id: str,
    version: str | None,
    params: Iterable[tuple[str, str]],
) -> SchemaQuery:
    """Parse the path and parameters; 501 for a metadata context or ``asOf``, else 400."""
    if context in METADATA_CONTEXTS:
        raise NotImplementedYet(
            f"schema queries for the context '{context}': this service holds no metadata structures"
        )
    if context not in CONTEXTS:
        allowed = ", ".join([*CONTEXTS, *METADATA_CONTEXTS])
        raise QuerySyntaxError(f"Unknown schema context '{context}'; allowed: {allowed}")
    found = dict(params)
    if parse_as_of(found.get("asOf")) is not None:
        raise NotImplementedYet("asOf on schema queries: structures keep no history yet")
    return SchemaQuery(
        context=context,
        agency=agency,
        resource_id=resource_id,
        version=VersionSelector.parse_v2(version),
        dimension_at_observation=found.get("dimensionAtObservation") or None,
        explicit_measure=boolean_parameter("explicitMeasure", found.get("explicitMeasure")),
        deletion=boolean_parameter("deletion", found.get("deletion")),
    )


# --- the answer --------------------------------------------------------------------------------


def schema_artefacts(repo: StructureRepository, query: SchemaQuery) -> list[Artefact]:
    """The artefacts of the answer, in structure-message order (schemes first).

    Raises NoResultsFound (100) when the context artefact is not in the store, QuerySyntaxError
    for a ``dimensionAtObservation`` the data structure does not have.
    """
    entry = _context_entry(repo, query)
    groups: list[Sequence[ContentConstraint]]
    if entry.type is StructureType.DATASTRUCTURE:
        flow = resolve_structure(repo, entry.agency, entry.id, entry.version)
        groups = [flow.constraints]
    elif entry.type is StructureType.DATAFLOW:
        flow = resolve_flow(repo, entry.agency, entry.id, entry.version)
        groups = [flow.constraints]
    else:
        agreement = repo.load([entry])[entry.pk]
        assert isinstance(agreement, ProvisionAgreement)
        ref = agreement.dataflow
        flow = resolve_flow(repo, ref.agency, ref.id, ref.version)
        provider = flow.provider_constraints.get(agreement.provider, ())
        groups = [flow.constraints, provider, _attached_to(repo, agreement)]
    _check_dimension_at_observation(flow.dsd, query.dimension_at_observation)
    dsd = _for_deletion(flow.dsd) if query.deletion else flow.dsd
    constraints = _unique(c for group in groups for c in group)
    schemes = _schemes(repo, flow, [g for g in groups if g])
    return [*_in_order([dsd, *schemes]), *constraints]


def _context_entry(repo: StructureRepository, query: SchemaQuery) -> IndexEntry:
    """The context artefact: the latest of the versions the query selects (a schema is for
    one version; ``*`` and ranges mean the newest that matches)."""
    kind = CONTEXTS[query.context]
    selection = Selection(
        types=(kind,), agencies=(query.agency,), ids=(query.resource_id,), versions=query.version
    )
    entries = select_entries(repo.index([kind]), selection)
    if not entries:
        raise NoResultsFound(
            f"no {query.context} {query.agency}:{query.resource_id} with the requested version "
            "in this service"
        )
    if len(entries) == 1:
        return entries[0]
    by_version = {e.version: e for e in entries}
    unstable = [e.version for e in entries if not e.is_final]
    latest = _LATEST.select(by_version, unstable) or _LATEST.select(by_version)
    return by_version[latest[-1]] if latest else entries[-1]


def _attached_to(
    repo: StructureRepository, agreement: ProvisionAgreement
) -> list[ContentConstraint]:
    """Allowed constraints attached to the provision agreement itself."""
    entries = repo.index([StructureType.CONTENTCONSTRAINT])
    wanted = agreement.ref().maintainable_key
    return [
        c
        for c in repo.load(entries).values()
        if isinstance(c, ContentConstraint)
        and c.role == "Allowed"
        and any(
            r.cls == "ProvisionAgreement" and r.item is None and r.maintainable_key == wanted
            for r in c.attachment
        )
    ]


def _check_dimension_at_observation(dsd: DataStructure, asked: str | None) -> None:
    if asked is None:
        return
    ids = [d.id for d in dsd.dimensions]
    if asked not in (*ids, ALL_DIMENSIONS):
        every = ", ".join([*ids, ALL_DIMENSIONS])
        raise QuerySyntaxError(f"dimensionAtObservation={asked!r}: expected one of {every}")


def _for_deletion(dsd: DataStructure) -> DataStructure:
    """A deletion message need not carry attribute values: every attribute is optional."""
    attributes = tuple(msgspec.structs.replace(a, mandatory=False) for a in dsd.attributes)
    return msgspec.structs.replace(dsd, attributes=attributes)


def _unique(constraints: Iterable[ContentConstraint]) -> list[ContentConstraint]:
    seen: dict[tuple[str, str, str], ContentConstraint] = {}
    for c in constraints:
        seen.setdefault((c.agency, c.id, c.version), c)
    return sorted(seen.values(), key=lambda c: (c.agency, c.id, c.version))


def _in_order(artefacts: Iterable[Artefact]) -> list[Artefact]:
    return sorted(
        artefacts,
        key=lambda a: (TYPE_ORDER[structure_type(a)], a.agency, a.id, a.version),
    )


def _schemes(
    repo: StructureRepository, flow: FlowContext, groups: Sequence[Sequence[ContentConstraint]]
) -> list[Artefact]:
    """The DSD's concept schemes cut to the concepts it uses, and its codelists cut to the
    codes every group of constraints allows (a code must pass each group: the dataflow's,
    the data provider's, the agreement's)."""
    dsd = flow.dsd
    by_key = {e.key: e for e in repo.index([StructureType.CODELIST, StructureType.CONCEPTSCHEME])}
    entries = {}
    for ref in dsd.references():
        stored = ref_key(ref)
        if stored is not None and stored in by_key:
            entries[stored] = by_key[stored]
    loaded = repo.load(list(entries.values()))
    concepts = used_concepts([dsd])
    allowed = codes_by_codelist([dsd], lambda component: _allowed(groups, component))
    enumerated = {
        c.representation.enumeration.maintainable_key
        for c in dsd.components
        if c.representation is not None and c.representation.enumeration is not None
    }
    unrestricted = enumerated - allowed.keys()
    result: list[Artefact] = []
    for artefact in loaded.values():
        key = artefact.key
        if key in unrestricted or not isinstance(artefact, Codelist | ConceptScheme):
            result.append(artefact)
        elif isinstance(artefact, ConceptScheme):
            # Its concepts, and its codes where it enumerates (an SDMX 2.1 measure dimension).
            result.append(_cut(artefact, concepts.get(key, set()) | allowed.get(key, set())))
        elif key in allowed:
            result.append(_cut(artefact, allowed[key]))
        else:
            result.append(artefact)
    return result


def _allowed(groups: Sequence[Sequence[ContentConstraint]], component_id: str) -> set[str] | None:
    """The codes every group allows for a component (None: no group restricts it)."""
    codes: set[str] | None = None
    for group in groups:
        found = allowed_codes(group, component_id)
        if found is not None:
            codes = set(found) if codes is None else codes & found
    return codes


def _cut(scheme: Codelist | ConceptScheme, keep: set[str]) -> Artefact:
    """:func:`cut_scheme`, leaving a scheme whose every item is kept whole (not partial)."""
    return scheme if all(it.id in keep for it in scheme.items) else cut_scheme(scheme, keep)
