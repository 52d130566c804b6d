"""Structure maintenance (sdmx-rest ``doc/maintenance.md``): create, replace, delete."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec

from service.errors import QuerySyntaxError, SdmxError
from service.formats.readers.sdmx_ml_structure import SdmxMlVersion, read_structures
from service.formats.writers.submit_structure_response import SubmissionResult
from service.model import (
    Artefact,
    Categorisation,
    CategoryScheme,
    ContentConstraint,
    DataStructure,
    Item,
    ItemScheme,
    ProvisionAgreement,
    Ref,
    StructureType,
    artefact_class,
)
from service.model.types import structure_type
from service.model.urn import ITEM_CLASSES
from service.query.structure import VersionSelector
from service.storage.structures import (
    ArtefactKey,
    IndexEntry,
    StructureRepository,
    encode,
    key_of,
    ref_key,
    structure_type_of,
)

#: The item scheme class of each item class (``Concept`` -> ``ConceptScheme``).
_SCHEME_OF = {item: scheme for scheme, item in ITEM_CLASSES.items()}
#: What the SDMX-ML schemas allow as agency (NestedNCNameIDType), id (IDType) and version.
_AGENCY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*")
_ARTEFACT_ID = re.compile(r"[A-Za-z0-9_@$-]+")
_NUM = r"(0|[1-9][0-9]*)"
_EXT_PART = r"([0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*|0|[1-9][0-9]*)"
_VERSION: dict[SdmxMlVersion, re.Pattern[str]] = {
    "2.1": re.compile(r"[0-9]+(\.[0-9]+)*"),
    "3.0": re.compile(rf"{_NUM}(\.{_NUM})?|{_NUM}(\.{_NUM}){{2}}(-{_EXT_PART}(\.{_EXT_PART})*)?"),
}
_MAX_LISTED = 20

APPEND, REPLACE, DELETE = "Append", "Replace", "Delete"
NOT_APPLIED = 424  # HTTP Failed Dependency: fine by itself, but another artefact failed


class UnreadableStructures(SdmxError):
    """The body is no readable SDMX-ML structure message (malformed, DTD, other message)."""

    code = 140
    http_status = 400
    title = "Unreadable structure message"


class UnsupportedStructures(SdmxError):
    """The message holds parts the model cannot store faithfully: nothing is written."""

    code = 150
    http_status = 422
    title = "Structures this service cannot store"


@dataclass(frozen=True, slots=True)
class Submission:
    artefacts: list[Artefact]
    version: SdmxMlVersion


@dataclass(frozen=True, slots=True)
class Report:
    """One result per artefact, and the HTTP status the doc's matrices give the whole."""

    results: tuple[SubmissionResult, ...]

    @property
    def status(self) -> int:
        """The first real failure's code; else 201 when something was created, else 200."""
        failures = [r.code for r in self.results if not r.success]
        if failures:
            return next((c for c in failures if c != NOT_APPLIED), failures[0])
        return 201 if any(r.code == 201 for r in self.results) else 200

    @property
    def created(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.code == 201]


def read_submission(body: bytes) -> Submission:
    """The artefacts of an SDMX-ML 2.1 or 3.0 structure message; 400 or 422 when unfit."""
    try:
        result = read_structures(body)
    except ValueError as exc:  # StructureReadError, and values the model refuses
        raise UnreadableStructures(str(exc)) from None
    if result.skipped:
        notes = "; ".join(result.skipped[:_MAX_LISTED])
        raise UnsupportedStructures(f"nothing was written; this service cannot store: {notes}")
    if not result.artefacts:
        raise UnreadableStructures("the message holds no structures")
    invalid = [
        key_label(key_of(a)) for a in result.artefacts if not _well_formed(a, result.version)
    ]
    if invalid:
        raise UnreadableStructures(
            f"agency, id or version outside SDMX-ML {result.version} syntax: {_listed(invalid)}"
        )
    return Submission(result.artefacts, result.version)


def _well_formed(artefact: Artefact, version: SdmxMlVersion) -> bool:
    """What the XSD would check: the artefact can be addressed, referred to and echoed."""
    return bool(
        _AGENCY_ID.fullmatch(artefact.agency)
        and _ARTEFACT_ID.fullmatch(artefact.id)
        and _VERSION[version].fullmatch(artefact.version)
    )


# --- labels ------------------------------------------------------------------------------------


def key_label(key: ArtefactKey) -> str:
    t, agency, artefact_id, version = key
    return f"{artefact_class(t).sdmx_class} {agency}:{artefact_id}({version})"


def _listed(labels: Sequence[str]) -> str:
    more = len(labels) - _MAX_LISTED
    return ", ".join(labels[:_MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _result(key: ArtefactKey, action: str, code: int, text: str) -> SubmissionResult:
    t, agency, artefact_id, version = key
    cls = artefact_class(t).sdmx_class
    return SubmissionResult(cls, agency, artefact_id, version, action, code, text)


# --- references --------------------------------------------------------------------------------


def item_refs(artefact: Artefact) -> Iterator[Ref]:
    """The references to items (concepts, data providers, categories) an artefact holds."""
    refs: Sequence[Ref] = ()
    if isinstance(artefact, DataStructure):
        refs = [component.concept for component in artefact.components]
    elif isinstance(artefact, ProvisionAgreement):
        refs = [artefact.provider]
    elif isinstance(artefact, Categorisation):
        refs = [artefact.target]
    elif isinstance(artefact, ContentConstraint):
        refs = artefact.attachment
    return (ref for ref in dict.fromkeys(refs) if ref.item is not None)


def scheme_key(ref: Ref) -> ArtefactKey | None:
    """The key of the item scheme an item reference points into (None: not an item we store)."""
    scheme = _SCHEME_OF.get(ref.cls)
    if scheme is None:
        return None
    return (structure_type_of(artefact_class(scheme)), ref.agency, ref.id, ref.version)


class _World:
    """The store as it would be after the submission: submitted artefacts over stored ones."""

    def __init__(
        self,
        repo: StructureRepository,
        entries: dict[ArtefactKey, IndexEntry],
        submitted: dict[ArtefactKey, Artefact],
    ) -> None:
        self.repo = repo
        self.entries = entries
        self.submitted = submitted
        self.versions: dict[tuple[StructureType, str, str], list[str]] = {}
        for t, agency, artefact_id, version in [*entries, *submitted]:
            self.versions.setdefault((t, agency, artefact_id), []).append(version)
        self._loaded: dict[ArtefactKey, Artefact] = {}

    def find(self, key: ArtefactKey) -> ArtefactKey | None:
        """The artefact a reference's key names (an SDMX 3.0 wildcard picks one), or None."""
        if key in self.submitted or key in self.entries:
            return key
        t, agency, artefact_id, version = key
        try:
            chosen = VersionSelector.parse_v2(version).select(
                self.versions.get((t, agency, artefact_id), [])
            )
        except QuerySyntaxError:
            return None
        return (t, agency, artefact_id, chosen[-1]) if chosen else None

    def get(self, key: ArtefactKey) -> Artefact:
        if key in self.submitted:
            return self.submitted[key]
        if key not in self._loaded:
            entry = self.entries[key]
            self._loaded[key] = self.repo.load([entry])[entry.pk]
        return self._loaded[key]

    def has_item(self, ref: Ref) -> bool:
        """Whether an item reference resolves (True when its scheme is missing: said apart)."""
        key = scheme_key(ref)
        found = None if key is None else self.find(key)
        if found is None or ref.item is None:
            return True
        scheme = self.get(found)
        item_id = ref.item.split(".")[-1]  # a nested category's path (A.A1): ids are unique
        return not isinstance(scheme, ItemScheme) or scheme.item(item_id) is not None

    def missing(self, artefact: Artefact) -> list[str]:
        """What ``artefact`` refers to that does not exist (types we do not store aside)."""
        labels = [
            key_label(key)
            for key in (ref_key(ref) for ref in artefact.references())
            if key is not None and self.find(key) is None
        ]
        labels += [f"{ref.cls} {ref}" for ref in item_refs(artefact) if not self.has_item(ref)]
        return labels

    def stored_referrers(self, key: ArtefactKey) -> list[Artefact]:
        """The stored artefacts that refer to ``key`` and are not resubmitted now."""
        pks = self.repo.referencing([key])
        entries = [
            e
            for e in self.entries.values()
            if e.pk in pks and e.key != key and e.key not in self.submitted
        ]
        return list(self.repo.load(entries).values())


# --- partial item schemes ----------------------------------------------------------------------


def _root(item_id: str, parent: dict[str, str | None]) -> str:
    seen = {item_id}
    up = parent.get(item_id)
    while up is not None and up in parent and up not in seen:
        seen.add(up)
        item_id, up = up, parent.get(up)
    return item_id


def _groups(items: Sequence[Item], nested: bool) -> dict[str, list[Item]]:
    """Items by the root item they hang from (nested schemes) or by their own id."""
    parent = {item.id: item.parent for item in items}
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(_root(item.id, parent) if nested else item.id, []).append(item)
    return groups


S = TypeVar("S", bound=ItemScheme)


def merge_partial(stored: S, partial: ItemScheme) -> S:
    """``stored`` updated by a partial item scheme, as the doc's "Partially update" says."""
    nested = isinstance(stored, CategoryScheme)
    old, new = _groups(stored.items, nested), _groups(partial.items, nested)
    groups = [new.get(key, items) for key, items in old.items()]
    groups += [items for key, items in new.items() if key not in old]
    return msgspec.structs.replace(
        stored,
        items=tuple(item for items in groups for item in items),
        names={**stored.names, **partial.names},
        descriptions={**stored.descriptions, **partial.descriptions},
        annotations=partial.annotations,
        is_final=partial.is_final,
        valid_from=partial.valid_from,
        valid_to=partial.valid_to,
    )


def _is_partial(artefact: Artefact) -> bool:
    return isinstance(artefact, ItemScheme) and artefact.is_partial


# --- submissions -------------------------------------------------------------------------------


class _Plan:
    """What becomes of one submitted artefact; ``code`` 0 while it may still be written."""

    def __init__(self, submitted: Artefact, existing: IndexEntry | None) -> None:
        self.submitted = submitted
        self.result: Artefact = submitted
        self.existing = existing
        self.key = key_of(submitted)
        self.label = key_label(self.key)
        self.code = 0
        self.text = ""

    @property
    def action(self) -> str:
        return REPLACE if self.existing is not None else APPEND

    @property
    def pending(self) -> bool:
        return self.code == 0

    def settle(self, code: int, text: str) -> None:
        self.code, self.text = code, f"{self.label}: {text}"

    def as_result(self) -> SubmissionResult:
        return _result(self.key, self.action, self.code, self.text)


def submit(
    repo: StructureRepository,
    artefacts: Sequence[Artefact],
    *,
    only: StructureType | None = None,
    target: ArtefactKey | None = None,
) -> Report:
    """Create or replace ``artefacts`` (POST; PUT names its ``target``), all or nothing.

    ``only`` is the type a ``POST /structure/{type}`` accepts. Every artefact is checked before
    anything is written (in the caller's transaction), and nothing is if one fails:

    - 422 for what the URL does not allow; PUT of an absent artefact is a 404 (doc matrix).
    - A final artefact (SDMX 2.1 ``isFinal``; SDMX 3.0: a version without ``-EXT``) is
      immutable: the same content again is a no-op, anything else a 409. The doc gives no way
      to amend names or annotations of a stable artefact, and the SDMX-ML schemas say final
      structures "can be versioned but not modified": a new version is the way.
    - ``isPartial="true"`` item schemes update the stored one (doc: "Partially update Item
      Schemes"): items replace their namesakes in place, new ones are appended; nested
      categories are replaced one root-level subtree at a time.
    - References must resolve in the store or in the message (409): maintainables (exact, or
      SDMX 3.0 wildcards) and the items DSDs, agreements, categorisations and constraints
      name. Replacing an item scheme must not drop an item a stored artefact uses (409).
    """
    entries = {e.key: e for e in repo.index()}
    plans = [_Plan(a, entries.get(key_of(a))) for a in artefacts]
    _check_request(plans, only, target)
    for plan in plans:
        if plan.pending:
            _compare_with_store(repo, plan, put=target is not None)
    world = _World(repo, entries, {p.key: p.result for p in plans})
    for plan in plans:
        if plan.pending:
            _check_references(world, plan)
    return _finish(repo, plans)


def _check_request(
    plans: Sequence[_Plan], only: StructureType | None, target: ArtefactKey | None
) -> None:
    """422 for what the URL does not allow (doc: "resource type mismatch")."""
    seen: set[ArtefactKey] = set()
    for plan in plans:
        problem = _request_problem(plan, only, target, len(plans), seen)
        if problem is not None:
            plan.settle(422, problem)
        seen.add(plan.key)


def _request_problem(
    plan: _Plan,
    only: StructureType | None,
    target: ArtefactKey | None,
    count: int,
    seen: set[ArtefactKey],
) -> str | None:
    if target is not None and (count != 1 or plan.key != target):
        return f"the body must hold exactly the artefact the URL names, {key_label(target)}"
    if only is not None and structure_type(plan.submitted) is not only:
        return f"not a {only.value}: submit it under its own type, or under /structure"
    if plan.key in seen:
        return "submitted twice in this message"
    if plan.submitted.is_stub:
        return "an external reference (stub) holds no definition to store"
    return None


def _compare_with_store(repo: StructureRepository, plan: _Plan, *, put: bool) -> None:
    """404, 409 (final artefacts) or "unchanged"; a partial item scheme is merged here."""
    existing = plan.existing
    if existing is None:
        if put:
            plan.settle(404, "not found: PUT replaces a stored artefact, POST creates new ones")
        elif _is_partial(plan.submitted):
            plan.settle(404, "not found: a partial item scheme (isPartial) updates a stored one")
        return
    partial = plan.submitted
    if isinstance(partial, ItemScheme) and partial.is_partial:
        stored = repo.load([existing])[existing.pk]
        if isinstance(stored, ItemScheme):
            plan.result = merge_partial(stored, partial)
    if encode(plan.result)[1] == existing.content_hash:
        plan.settle(200, "unchanged (identical to the stored artefact)")
    elif existing.is_final:
        plan.settle(409, "final artefacts cannot be changed: submit it under a new version")


def _check_references(world: _World, plan: _Plan) -> None:
    """409 for references that resolve nowhere, or that replacing ``plan`` would break."""
    missing = world.missing(plan.result)
    if missing:
        plan.settle(
            409, f"refers to what is neither stored nor in this message: {_listed(missing)}"
        )
    elif plan.existing is not None and isinstance(plan.result, ItemScheme):
        broken = _broken_by(world, plan.key)
        if broken:
            plan.settle(409, f"the replacement would break references: {_listed(broken)}")


def _broken_by(world: _World, key: ArtefactKey) -> list[str]:
    """The item references of stored artefacts into ``key`` that its new version lacks."""
    return [
        f"{key_label(key_of(referrer))} uses {ref.cls} {ref.item}"
        for referrer in world.stored_referrers(key)
        for ref in item_refs(referrer)
        if _points_to(world, ref, key) and not world.has_item(ref)
    ]


def _points_to(world: _World, ref: Ref, key: ArtefactKey) -> bool:
    target = scheme_key(ref)
    return target is not None and world.find(target) == key


def _finish(repo: StructureRepository, plans: Sequence[_Plan]) -> Report:
    to_write = [plan for plan in plans if plan.pending]
    failed = any(plan.code >= 400 for plan in plans)
    for plan in to_write:
        if failed:
            plan.settle(NOT_APPLIED, "not applied: the submission is all or nothing")
        else:
            plan.settle(*((200, "replaced") if plan.existing else (201, "created")))
    if not failed and to_write:
        repo.save([plan.result for plan in to_write])
    return Report(tuple(plan.as_result() for plan in plans))


# --- deletion ----------------------------------------------------------------------------------


def delete(repo: StructureRepository, key: ArtefactKey) -> Report:
    """Delete one artefact: 404 when absent, 409 when stable or referred to, else 200.

    The doc's DELETE matrix: a stable (final) artefact is kept ("a deprecation strategy may be
    followed"), and so is one that another stored artefact refers to.
    """
    entries = repo.index()
    entry = next((e for e in entries if e.key == key), None)
    label = key_label(key)
    if entry is None:
        return Report((_result(key, DELETE, 404, f"{label}: not found"),))
    obstacles = _delete_obstacles(repo, entry, entries)
    if obstacles:
        text = f"{label} is not deleted: {'; '.join(obstacles)}"
        return Report((_result(key, DELETE, 409, text),))
    repo.delete(key)
    return Report((_result(key, DELETE, 200, f"{label}: deleted"),))


def _delete_obstacles(
    repo: StructureRepository, entry: IndexEntry, entries: Sequence[IndexEntry]
) -> list[str]:
    obstacles = []
    if entry.is_final:
        obstacles.append("it is final (stable), and stable artefacts are kept")
    pks = repo.referencing([entry.key]) - {entry.pk}
    referrers = sorted(key_label(e.key) for e in entries if e.pk in pks)
    if referrers:
        obstacles.append(f"{len(referrers)} stored artefact(s) refer to it: {_listed(referrers)}")
    return obstacles
