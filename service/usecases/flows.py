"""Resolve a dataflow to everything data validation and storage need: DSD, constraints, codes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from service.errors import NoResultsFound, SemanticError
from service.model import (
    Code,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    Dataflow,
    DataStructure,
    Localised,
    ProvisionAgreement,
    Ref,
)
from service.model.structures import allowed_codes
from service.model.types import StructureType
from service.storage.structures import ArtefactKey, IndexEntry, StructureRepository, ref_key

CodelistKey = tuple[str, str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class FlowContext:
    """A dataflow with its data structure, its Allowed constraints and the codelists it uses."""

    dataflow: Dataflow
    dsd: DataStructure
    constraints: tuple[ContentConstraint, ...]
    codelists: dict[CodelistKey, Codelist]
    #: Every provision agreement for this dataflow.
    agreements: tuple[ProvisionAgreement, ...]
    #: Allowed constraints attached to data providers, by provider reference.
    provider_constraints: dict[Ref, tuple[ContentConstraint, ...]]
    #: The names of the DSD's components (their concepts' names), by component id.
    concept_names: dict[str, Localised] = field(default_factory=dict)

    @property
    def label(self) -> str:
        ref = self.dataflow.ref()
        if ref.maintainable_key == self.dsd.ref().maintainable_key:
            return f"datastructure {self.dsd.ref()}"
        return str(ref)

    @functools.cached_property
    def code_names(self) -> dict[str, dict[str, Localised]]:
        """The names of the codes of each coded component, by component id and code."""
        found: dict[str, dict[str, Localised]] = {}
        for component in self.dsd.components:
            rep = component.representation
            if rep is None or rep.enumeration is None:
                continue
            codelist = self.codelists.get(rep.enumeration.maintainable_key)
            if codelist is not None:
                found[component.id] = {code.id: code.names for code in codelist.items}
        return found

    @functools.cached_property
    def _allowed(self) -> dict[str, frozenset[str] | None]:
        return {c.id: allowed_codes(self.constraints, c.id) for c in self.dsd.components}

    def allowed(self, component_id: str) -> frozenset[str] | None:
        """The codes the dataflow's Allowed constraints allow for a component (None: any),
        worked out once per resolved dataflow: every data query asks it of each dimension."""
        if component_id in self._allowed:
            return self._allowed[component_id]
        return allowed_codes(self.constraints, component_id)

    def provider_areas(self, provider: Ref, dimension: str = "REF_AREA") -> frozenset[str] | None:
        """The codes a provider may report for ``dimension`` (None: no restriction)."""
        return allowed_codes(self.provider_constraints.get(provider, ()), dimension)

    def has_agreement(self, provider: Ref) -> bool:
        return any(pa.provider == provider for pa in self.agreements)


def _latest(entries: Sequence[IndexEntry]) -> IndexEntry:
    finals = [e for e in entries if e.is_final] or list(entries)
    return max(finals, key=lambda e: [int(p) if p.isdigit() else 0 for p in e.version.split(".")])


def resolve_flow(repo: StructureRepository, agency: str, flow_id: str, version: str) -> FlowContext:
    """The dataflow ``agency:flow_id(version)`` (``latest`` or ``~`` for the latest) in context.

    Raises NoResultsFound (100) for an unknown dataflow and SemanticError when its structures
    are incomplete in the store.
    """
    index = repo.index()
    flows = [
        e
        for e in index
        if e.type is StructureType.DATAFLOW
        and agency in (e.agency, "*")
        and e.id == flow_id
        and (version in ("latest", "~", "*") or e.version == version)
    ]
    if not flows:
        raise NoResultsFound(f"no dataflow {agency}:{flow_id}({version}) in this service")
    flow_entry = _latest(flows)
    by_key = {e.key: e for e in index}
    dataflow = repo.load([flow_entry])[flow_entry.pk]
    assert isinstance(dataflow, Dataflow)
    dsd = _load_one(repo, by_key, dataflow.structure, DataStructure)
    codelists = _codelists(repo, by_key, dsd)
    constraints, provider_constraints = _constraints(repo, index, dataflow)
    agreements = _agreements(repo, index, dataflow)
    names = _concept_names(repo, by_key, dsd)
    return FlowContext(
        dataflow, dsd, constraints, codelists, agreements, provider_constraints, names
    )


def _concept_names(
    repo: StructureRepository, by_key: dict[ArtefactKey, IndexEntry], dsd: DataStructure
) -> dict[str, Localised]:
    """The names of the DSD's components: their concepts' names (none for a concept scheme
    not in the store)."""
    wanted = {c.concept.maintainable_key for c in dsd.components}
    entries = [
        e
        for e in by_key.values()
        if e.type is StructureType.CONCEPTSCHEME and (e.agency, e.id, e.version) in wanted
    ]
    concepts: dict[tuple[tuple[str, str, str], str], Localised] = {}
    for scheme in repo.load(entries).values():
        if isinstance(scheme, ConceptScheme):
            for concept in scheme.items:
                concepts[((scheme.agency, scheme.id, scheme.version), concept.id)] = concept.names
    return {
        c.id: concepts.get((c.concept.maintainable_key, c.concept.item or ""), {})
        for c in dsd.components
    }


def _load_one(
    repo: StructureRepository, by_key: dict[ArtefactKey, IndexEntry], ref: Ref, cls: type[T]
) -> T:
    key = ref_key(ref)
    entry = by_key.get(key) if key is not None else None
    if entry is None:
        raise SemanticError(f"{ref} is referenced but not in this service")
    found = repo.load([entry])[entry.pk]
    assert isinstance(found, cls)
    return found


def _codelists(
    repo: StructureRepository, by_key: dict[ArtefactKey, IndexEntry], dsd: DataStructure
) -> dict[CodelistKey, Codelist]:
    refs = {
        c.representation.enumeration
        for c in dsd.components
        if c.representation is not None and c.representation.enumeration is not None
    }
    return {ref.maintainable_key: _enumeration(repo, by_key, ref) for ref in refs}


def _enumeration(
    repo: StructureRepository, by_key: dict[ArtefactKey, IndexEntry], ref: Ref
) -> Codelist:
    """The codes a component takes: its codelist, or (an SDMX 2.1 measure dimension) the
    concepts of its concept scheme, as a codelist of the same identity."""
    if ref.cls != "ConceptScheme":
        return _load_one(repo, by_key, ref, Codelist)
    scheme = _load_one(repo, by_key, ref, ConceptScheme)
    codes = tuple(Code(id=c.id, names=c.names, parent=c.parent) for c in scheme.items)
    return Codelist(
        agency=scheme.agency, id=scheme.id, version=scheme.version, names=scheme.names, items=codes
    )


def _constraints(
    repo: StructureRepository, index: Sequence[IndexEntry], dataflow: Dataflow
) -> tuple[tuple[ContentConstraint, ...], dict[Ref, tuple[ContentConstraint, ...]]]:
    entries = [e for e in index if e.type is StructureType.CONTENTCONSTRAINT]
    on_flow: list[ContentConstraint] = []
    on_providers: dict[Ref, list[ContentConstraint]] = {}
    targets = {dataflow.ref().maintainable_key, dataflow.structure.maintainable_key}
    for constraint in repo.load(entries).values():
        if not isinstance(constraint, ContentConstraint) or constraint.role != "Allowed":
            continue
        for ref in constraint.attachment:
            if ref.cls == "DataProvider":
                on_providers.setdefault(ref, []).append(constraint)
            elif ref.item is None and ref.maintainable_key in targets:
                on_flow.append(constraint)
    return tuple(on_flow), {k: tuple(v) for k, v in on_providers.items()}


def _agreements(
    repo: StructureRepository, index: Sequence[IndexEntry], dataflow: Dataflow
) -> tuple[ProvisionAgreement, ...]:
    entries = [e for e in index if e.type is StructureType.PROVISIONAGREEMENT]
    wanted = dataflow.ref().maintainable_key
    return tuple(
        pa
        for pa in repo.load(entries).values()
        if isinstance(pa, ProvisionAgreement) and pa.dataflow.maintainable_key == wanted
    )


def resolve_structure(
    repo: StructureRepository, agency: str, dsd_id: str, version: str
) -> FlowContext:
    """A data structure as an upload target (context ``datastructure``): no dataflow
    constraint narrows it; constraints attached to the DSD itself still apply."""
    index = repo.index([StructureType.DATASTRUCTURE])
    entries = [
        e
        for e in index
        if e.agency == agency
        and e.id == dsd_id
        and (version in ("latest", "~", "*") or e.version == version)
    ]
    if not entries:
        raise NoResultsFound(f"no data structure {agency}:{dsd_id}({version}) in this service")
    entry = _latest(entries)
    dsd = repo.load([entry])[entry.pk]
    assert isinstance(dsd, DataStructure)
    by_key = {e.key: e for e in repo.index()}
    view = Dataflow(agency=dsd.agency, id=dsd.id, version=dsd.version, structure=dsd.ref())
    constraints, providers = _constraints(repo, repo.index(), view)
    codelists, names = _codelists(repo, by_key, dsd), _concept_names(repo, by_key, dsd)
    return FlowContext(view, dsd, constraints, codelists, (), providers, names)
