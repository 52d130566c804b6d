"""Structure queries: select artefacts, follow references, apply the detail level."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from service.errors import NoResultsFound
from service.model import (
    Artefact,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    Dataflow,
    DataStructure,
    ItemScheme,
)
from service.model.structures import allowed_codes
from service.model.types import StructureType
from service.storage.structures import IndexEntry, StructureRepository, ref_key

_UNVERSIONED = frozenset({StructureType.AGENCYSCHEME, StructureType.DATAPROVIDERSCHEME})
#: Order in which artefact types are listed in a response (schemes first, as registries do).
TYPE_ORDER = {t: n for n, t in enumerate(StructureType)}


class VersionSelector(Protocol):
    def select(self, available: Iterable[str], unstable: Collection[str] = ()) -> list[str]:
        """The versions, among those of one artefact, that the query asks for.

        ``unstable`` names the versions that are not final (SDMX 2.1 ``isFinal="false"``).
        """
        ...


@dataclass(frozen=True)
class Selection:
    """A structure query as the use case needs it (built from the parsed REST query)."""

    types: tuple[StructureType, ...]
    agencies: tuple[str, ...] | None
    ids: tuple[str, ...] | None
    versions: VersionSelector
    items: tuple[str, ...] | None = None
    references: frozenset[str] = frozenset({"none"})
    detail: str = "full"


@dataclass(frozen=True)
class StructureResult:
    artefacts: list[Artefact]
    matched: int


def run(
    repo: StructureRepository,
    selection: Selection,
    structure_url: Callable[[Artefact], str] | None = None,
) -> StructureResult:
    """Answer a structure query, raising NoResultsFound (SDMX 100) when nothing matches."""
    index = repo.index()
    matched = select_entries(index, selection)
    if not matched:
        raise NoResultsFound(_describe(selection) + _agencies_hint(index, selection))
    loaded = repo.load(matched)
    main = [loaded[e.pk] for e in matched]
    if selection.items is not None:
        main = filter_items(main, selection.items)
        if not main:
            raise NoResultsFound(f"no item {'/'.join(selection.items)} in {_describe(selection)}")
    referenced = expand_references(repo, index, matched, selection.references)
    refs = _load_in_order(repo, referenced)
    main, refs = apply_detail(selection.detail, main, refs, structure_url)
    return StructureResult(main + refs, len(main))


def select_entries(index: Sequence[IndexEntry], selection: Selection) -> list[IndexEntry]:
    groups: dict[tuple[StructureType, str, str], list[IndexEntry]] = {}
    for entry in index:
        if entry.type not in selection.types:
            continue
        if selection.agencies is not None and entry.agency not in selection.agencies:
            continue
        if selection.ids is not None and entry.id not in selection.ids:
            continue
        groups.setdefault((entry.type, entry.agency, entry.id), []).append(entry)
    chosen: list[IndexEntry] = []
    for entries in groups.values():
        by_version = {e.version: e for e in entries}
        # SDMX 2.1 organisation schemes cannot be final (isFinal is fixed to false) and are
        # never versioned: "latest" and "+" must still find them.
        unstable = [e.version for e in entries if not e.is_final and e.type not in _UNVERSIONED]
        chosen.extend(by_version[v] for v in selection.versions.select(by_version, unstable))
    return sorted(chosen, key=_sort_key)


def _sort_key(entry: IndexEntry) -> tuple[int, str, str, str]:
    return (TYPE_ORDER[entry.type], entry.agency, entry.id, entry.version)


def _describe(selection: Selection) -> str:
    types = "+".join(t.value for t in selection.types) if len(selection.types) < 4 else "structure"
    agencies = "+".join(selection.agencies) if selection.agencies else "any agency"
    ids = "+".join(selection.ids) if selection.ids else "any id"
    return f"no {types} matches {agencies} / {ids} with the requested version"


def _agencies_hint(index: Sequence[IndexEntry], selection: Selection) -> str:
    """Which agencies maintain artefacts of the types asked for, when none of those asked for
    does (sdmx1, for one, takes its source's id for the agency unless told)."""
    if selection.agencies is None:
        return ""
    owners = sorted({e.agency for e in index if e.type in selection.types})
    if not owners or set(owners) & set(selection.agencies):
        return ""
    return f"; the agencies that maintain them here: {', '.join(owners)}"


def _load_in_order(repo: StructureRepository, entries: Sequence[IndexEntry]) -> list[Artefact]:
    loaded = repo.load(entries)
    return [loaded[e.pk] for e in entries]


# --- items -------------------------------------------------------------------------------------


def filter_items(artefacts: Sequence[Artefact], items: tuple[str, ...]) -> list[Artefact]:
    """Keep only the requested items of each item scheme; drop schemes left empty."""
    wanted = set(items)
    result: list[Artefact] = []
    for artefact in artefacts:
        if not isinstance(artefact, ItemScheme):
            continue
        kept = tuple(it for it in artefact.items if "*" in wanted or it.id in wanted)
        if kept:
            result.append(msgspec.structs.replace(artefact, items=kept, is_partial=True))
    return result


# --- references --------------------------------------------------------------------------------


class _Graph:
    """Walks references between stored artefacts, loading bodies only when needed."""

    def __init__(self, repo: StructureRepository, index: Sequence[IndexEntry]) -> None:
        self.repo = repo
        self.by_key = {e.key: e for e in index}
        self.by_pk = {e.pk: e for e in index}

    def children(self, entries: Iterable[IndexEntry]) -> set[IndexEntry]:
        entries = list(entries)
        found: set[IndexEntry] = set()
        for artefact in self.repo.load(entries).values():
            for ref in artefact.references():
                key = ref_key(ref)
                if key is not None and key in self.by_key:
                    found.add(self.by_key[key])
        return found

    def parents(self, entries: Iterable[IndexEntry]) -> set[IndexEntry]:
        pks = self.repo.referencing(e.key for e in entries)
        return {self.by_pk[pk] for pk in pks if pk in self.by_pk}

    def closure(
        self, start: set[IndexEntry], step: Callable[[Iterable[IndexEntry]], set[IndexEntry]]
    ) -> set[IndexEntry]:
        seen: set[IndexEntry] = set()
        frontier = set(start)
        while frontier:
            nxt = step(frontier) - seen - frontier
            seen |= frontier
            frontier = nxt
        return seen


def expand_references(
    repo: StructureRepository,
    index: Sequence[IndexEntry],
    matched: Sequence[IndexEntry],
    references: frozenset[str],
) -> list[IndexEntry]:
    """The artefacts ``references`` asks for, besides the matched ones, in listing order."""
    if not references or references == {"none"}:
        return []
    graph = _Graph(repo, index)
    start = set(matched)
    found: set[IndexEntry] = set()
    for value in references:
        found |= _expand_one(graph, start, value)
    found -= start
    return sorted(found, key=_sort_key)


def _expand_one(graph: _Graph, start: set[IndexEntry], value: str) -> set[IndexEntry]:
    if value == "none":
        return set()
    if value == "children":
        return graph.children(start)
    if value == "descendants":
        return graph.closure(graph.children(start), graph.children)
    if value == "parents":
        return graph.parents(start)
    if value == "ancestors":
        return graph.closure(graph.parents(start), graph.parents)
    if value == "parentsandsiblings":
        parents = graph.parents(start)
        return parents | graph.children(parents)
    if value == "all":
        parents = graph.parents(start)
        descendants = graph.closure(graph.children(start), graph.children)
        return parents | graph.children(parents) | descendants
    # A structure type: every artefact of that type related to the matched ones, either way.
    wanted = StructureType(value)
    related = graph.closure(graph.children(start), graph.children) | graph.closure(
        graph.parents(start), graph.parents
    )
    return {e for e in related if e.type == wanted}


# --- detail ------------------------------------------------------------------------------------


def apply_detail(
    detail: str,
    main: list[Artefact],
    refs: list[Artefact],
    structure_url: Callable[[Artefact], str] | None,
) -> tuple[list[Artefact], list[Artefact]]:
    """Apply the ``detail`` parameter: full, (all|reference)(complete)stubs, referencepartial."""
    if detail in ("full", "raw"):
        return main, refs
    if detail == "referencepartial":
        return main, partial_references(main, refs)
    complete = "complete" in detail
    stub_main = detail.startswith("all")
    return (
        [stub(a, complete, structure_url) for a in main] if stub_main else main,
        [stub(a, complete, structure_url) for a in refs],
    )


def stub(
    artefact: Artefact, complete: bool, structure_url: Callable[[Artefact], str] | None
) -> Artefact:
    """A stub: identification and names; a complete stub keeps descriptions and annotations."""
    changes: dict[str, object] = {
        "is_stub": True,
        "structure_url": structure_url(artefact) if structure_url else None,
    }
    if not complete:
        changes.update(descriptions={}, annotations=())
    for name in _BODY_FIELDS.get(type(artefact), ()):
        changes[name] = ()
    return msgspec.structs.replace(artefact, **changes)


_BODY_FIELDS: dict[type, tuple[str, ...]] = {
    DataStructure: ("dimensions", "attributes", "measures", "groups"),
    ContentConstraint: ("cube_regions",),
}


def partial_references(main: Sequence[Artefact], refs: Sequence[Artefact]) -> list[Artefact]:
    """Cut referenced codelists to the codes the constraints allow, and concept schemes to the
    concepts the data structures use (``detail=referencepartial``)."""
    everything = [*main, *refs]
    dsds = [a for a in everything if isinstance(a, DataStructure)]
    allowed = _allowed_codes(main, everything, dsds)
    concepts = used_concepts(dsds)
    result: list[Artefact] = []
    for artefact in refs:
        if isinstance(artefact, Codelist) and artefact.key in allowed:
            result.append(cut_scheme(artefact, allowed[artefact.key]))
        elif isinstance(artefact, ConceptScheme) and artefact.key in concepts:
            result.append(cut_scheme(artefact, concepts[artefact.key]))
        else:
            result.append(artefact)
    return result


def cut_scheme(scheme: Codelist | ConceptScheme, keep: set[str]) -> Artefact:
    """The scheme with only the items in ``keep`` (partial; parents left out are dropped)."""
    items = tuple(it for it in scheme.items if it.id in keep)
    items = tuple(
        msgspec.structs.replace(it, parent=None) if it.parent and it.parent not in keep else it
        for it in items
    )
    return msgspec.structs.replace(scheme, items=items, is_partial=True)


def _allowed_codes(
    main: Sequence[Artefact], everything: Sequence[Artefact], dsds: Sequence[DataStructure]
) -> dict[tuple[str, str, str], set[str]]:
    """Codelist key -> codes allowed by the Allowed constraints on the matched artefacts."""
    targets = {(a.agency, a.id, a.version) for a in main}
    targets |= {a.structure.maintainable_key for a in main if isinstance(a, Dataflow)}
    constraints = [
        c
        for c in everything
        if isinstance(c, ContentConstraint)
        and c.role == "Allowed"
        and any(r.maintainable_key in targets and r.item is None for r in c.attachment)
    ]
    return codes_by_codelist(dsds, lambda component: allowed_codes(constraints, component))


def codes_by_codelist(
    dsds: Sequence[DataStructure], allowed_for: Callable[[str], Collection[str] | None]
) -> dict[tuple[str, str, str], set[str]]:
    """Codelist key -> the codes ``allowed_for`` allows the components it enumerates; a
    codelist that some component takes unrestricted (``allowed_for`` None) is left out."""
    allowed: dict[tuple[str, str, str], set[str]] = {}
    unrestricted: set[tuple[str, str, str]] = set()
    for dsd in dsds:
        for comp in dsd.components:
            rep = comp.representation
            if rep is None or rep.enumeration is None:
                continue
            codes = allowed_for(comp.id)
            if codes is None:
                unrestricted.add(rep.enumeration.maintainable_key)
            else:
                allowed.setdefault(rep.enumeration.maintainable_key, set()).update(codes)
    return {k: v for k, v in allowed.items() if k not in unrestricted}


def used_concepts(dsds: Sequence[DataStructure]) -> dict[tuple[str, str, str], set[str]]:
    """Concept scheme key -> the concepts the data structures' components use."""
    used: dict[tuple[str, str, str], set[str]] = {}
    for dsd in dsds:
        for comp in dsd.components:
            if comp.concept.item:
                used.setdefault(comp.concept.maintainable_key, set()).add(comp.concept.item)
    return used
