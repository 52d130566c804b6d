"""SDMX REST structure queries (API v1 for SDMX 2.1, API v2 for SDMX 3.0): parsed and validated."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

import msgspec

from service.errors import NotImplementedYet, QuerySyntaxError
from service.model.types import StructureType

# Query parameters: only ``detail`` and ``references`` (and, in v2, ``asOf``) are read. Any
# other parameter is ignored, not rejected with 140. The sdmx-rest specification lists the
# parameters of each resource but never asks for unknown ones to be refused, and its
# ``doc/extend.md`` explicitly lets services add their own (``format``, ``formatVersion``,
# ``lang``, ``compression``). Clients and proxies also add cache busters (``_=1700000000``).
# The ``format``/``formatVersion`` extension is handled by ``service.query.negotiation``.


class ApiVersion(enum.IntEnum):
    """The major version of the SDMX REST API a request came through."""

    #: SDMX REST 1.x (1.5.0): SDMX 2.1 paths, ``+`` lists, the keywords ``all`` and ``latest``.
    V1 = 1
    #: SDMX REST 2.x (2.2.2): ``/structure/...`` paths, ``,`` lists, ``*``, ``~`` and ``+``.
    V2 = 2


class Detail(enum.StrEnum):
    """The ``detail`` parameter of a structure query."""

    FULL = "full"
    ALLSTUBS = "allstubs"
    REFERENCESTUBS = "referencestubs"
    ALLCOMPLETESTUBS = "allcompletestubs"
    REFERENCECOMPLETESTUBS = "referencecompletestubs"
    REFERENCEPARTIAL = "referencepartial"
    #: v2 only: extended codelists are returned unresolved.
    RAW = "raw"


class ReferenceScope(enum.StrEnum):
    """The generic values of the ``references`` parameter (``none`` is the empty set)."""

    PARENTS = "parents"
    PARENTSANDSIBLINGS = "parentsandsiblings"
    #: v2 only: parents of parents, up to any level.
    ANCESTORS = "ancestors"
    CHILDREN = "children"
    DESCENDANTS = "descendants"
    ALL = "all"


_ALL_TYPES: tuple[StructureType, ...] = tuple(StructureType)
ITEM_SCHEME_TYPES: tuple[StructureType, ...] = (
    StructureType.CODELIST,
    StructureType.CONCEPTSCHEME,
    StructureType.CATEGORYSCHEME,
    StructureType.AGENCYSCHEME,
    StructureType.DATAPROVIDERSCHEME,
)

#: The path names of the types we serve, per API. v2 renamed ``contentconstraint``.
_SERVED: dict[ApiVersion, dict[str, StructureType]] = {
    ApiVersion.V1: {t.value: t for t in StructureType},
    ApiVersion.V2: {
        **{t.value: t for t in StructureType if t is not StructureType.CONTENTCONSTRAINT},
        "dataconstraint": StructureType.CONTENTCONSTRAINT,
    },
}
#: The standard structure types we do not serve: a query for them is a 501, never a 404.
#: v1: the structure paths of the v1.5.0 OpenAPI, plus ``reportingtaxonomy`` (v1.0 to v1.4).
#: v2: the ``structureType`` enumeration of the v2.2.2 OpenAPI.
_UNSERVED: dict[ApiVersion, frozenset[str]] = {
    ApiVersion.V1: frozenset(
        {
            "metadatastructure",
            "metadataflow",
            "structureset",
            "process",
            "actualconstraint",
            "allowedconstraint",
            "attachmentconstraint",
            "hierarchicalcodelist",
            "organisationscheme",
            "dataconsumerscheme",
            "organisationunitscheme",
            "reportingtaxonomy",
            "transformationscheme",
            "rulesetscheme",
            "userdefinedoperatorscheme",
            "customtypescheme",
            "namepersonalisationscheme",
            "namealiasscheme",
        }
    ),
    ApiVersion.V2: frozenset(
        {
            "metadatastructure",
            "metadataflow",
            "process",
            "metadataconstraint",
            "hierarchy",
            "hierarchyassociation",
            "dataconsumerscheme",
            "organisationunitscheme",
            "transformationscheme",
            "rulesetscheme",
            "userdefinedoperatorscheme",
            "customtypescheme",
            "namepersonalisationscheme",
            "vtlmappingscheme",
            "valuelist",
            "structuremap",
            "representationmap",
            "conceptschememap",
            "categoryschememap",
            "organisationschememap",
            "reportingtaxonomymap",
            "metadataproviderscheme",
            "reportingtaxonomy",
            "metadataprovisionagreement",
        }
    ),
}
#: The "any type" path name per API.
_ANY_TYPE: dict[ApiVersion, str] = {ApiVersion.V1: "structure", ApiVersion.V2: "*"}
#: Type names ``references`` accepts that we store under another type. In SDMX 2.1, actual and
#: allowed constraints are content constraints with a role; asking for one kind returns both
#: (the caller may filter on ``ContentConstraint.role``).
_REFERENCE_ALIASES: dict[ApiVersion, dict[str, StructureType]] = {
    ApiVersion.V1: {
        "actualconstraint": StructureType.CONTENTCONSTRAINT,
        "allowedconstraint": StructureType.CONTENTCONSTRAINT,
    },
    ApiVersion.V2: {},
}
#: Standard type names ``references`` accepts that can match nothing here (dropped silently:
#: "the metadataflows that use this" is rightly empty). The v2 ``references`` enumeration also
#: lists ``structureset`` and ``namealiasscheme``, which v2 dropped as query types.
_REFERENCE_NOTHING: dict[ApiVersion, frozenset[str]] = {
    ApiVersion.V1: _UNSERVED[ApiVersion.V1] - {"actualconstraint", "allowedconstraint"},
    ApiVersion.V2: _UNSERVED[ApiVersion.V2] | {"structureset", "namealiasscheme"},
}

# Identifier syntax, from the OpenAPI patterns (SDMX NestedNCNameID, ID and NestedID types).
_AGENCY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*")
_RESOURCE_ID = re.compile(r"[A-Za-z0-9_@$-]+")
_ITEM_ID = re.compile(r"[A-Za-z0-9_@$-]+(?:\.[A-Za-z0-9_@$-]+)*")
_WILDCARD: dict[ApiVersion, str] = {ApiVersion.V1: "all", ApiVersion.V2: "*"}
_SEPARATOR: dict[ApiVersion, str] = {ApiVersion.V1: "+", ApiVersion.V2: ","}


# --- Versions -------------------------------------------------------------------------------


class VersionOp(enum.StrEnum):
    """What one term of a version selector asks for."""

    #: ``1.0``, ``1.2.0``, ``1.2.0-draft``: that version.
    EXACT = "exact"
    #: ``*`` and ``1.*``, ``1.2*.0``... (v2), ``all`` (v1): every matching version.
    ALL = "all"
    #: ``~`` and ``1.~``, ``1.2~.0``... (v2): the latest matching version, stable or not.
    LATEST = "latest"
    #: ``+`` and ``1.+.0``, ``1.2+.0``... (v2): the latest matching stable version, ``x.y.z``
    #: with ``x > 0`` and no extension.
    STABLE = "stable"
    #: ``latest`` (v1): the latest matching final ("production") version.
    FINAL = "final"


class VersionTerm(msgspec.Struct, frozen=True, kw_only=True):
    """One comma- (v2) or plus-separated (v1) part of a version selector.

    A version matches a wildcard term when its first ``fixed`` parts equal those of ``floor``
    and it is not below ``floor``: ``1.2+.3`` is ``fixed=1, floor=(1, 2, 3)``, ``1.*`` is
    ``fixed=1, floor=(1, 0, 0)``, ``*`` is ``fixed=0, floor=(0, 0, 0)``. An exact term has
    ``fixed=3``; its ``floor`` is None when ``raw`` has more than three parts (v1 allows that).
    """

    op: VersionOp
    raw: str
    floor: tuple[int, int, int] | None = (0, 0, 0)
    fixed: int = 0
    ext: str | None = None

    @property
    def is_bare(self) -> bool:
        """Whether the term wildcards every part (``*``, ``~``, ``+``, ``all``, ``latest``)."""
        return self.op is not VersionOp.EXACT and self.fixed == 0 and self.floor == (0, 0, 0)


class _Parsed(NamedTuple):
    numbers: tuple[int, int, int]
    ext: str | None


_STORED_VERSION = re.compile(
    r"([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_NUM = r"(?:0|[1-9][0-9]*)"
_EXT_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_V2_EXACT = re.compile(rf"({_NUM})(?:\.({_NUM})(?:\.({_NUM})(?:-({_EXT_ID}(?:\.{_EXT_ID})*))?)?)?")
_V2_PART = re.compile(rf"({_NUM})?([+~*])?")
_V1_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_V2_OPS: dict[str, VersionOp] = {"*": VersionOp.ALL, "~": VersionOp.LATEST, "+": VersionOp.STABLE}
_V2_VERSION_HELP = (
    "expected X.Y, X.Y.Z or X.Y.Z-EXT, '*' (all), '~' (latest), '+' (latest stable), or one "
    "operator in a part such as 1.+.0, 1.2+.0, 1.2.3+, 1.~, 1.2~, 1.*, 2*.0; several separated "
    "by ','"
)


def _parse_stored(version: str) -> _Parsed | None:
    """A stored version as numbers and extension; ``1.0`` reads as ``1.0.0``."""
    m = _STORED_VERSION.fullmatch(version)
    if m is None:
        return None
    major, minor, patch, ext = m.groups()
    return _Parsed((int(major), int(minor or 0), int(patch or 0)), ext)


def _ext_key(ext: str | None) -> tuple[tuple[int, int, str], ...]:
    """SemVer pre-release precedence: numeric identifiers below alphanumeric ones."""
    if ext is None:
        return ()
    return tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in ext.split("."))


def _sort_key(
    item: tuple[str, _Parsed],
) -> tuple[tuple[int, int, int], bool, tuple[tuple[int, int, str], ...], str]:
    version, parsed = item
    return (parsed.numbers, parsed.ext is None, _ext_key(parsed.ext), version)


def _exact_term(raw: str, numbers: Sequence[str], ext: str | None = None) -> VersionTerm:
    floor = None
    if len(numbers) <= 3:
        a, b, c = (*(int(n) for n in numbers), 0, 0)[:3]
        floor = (a, b, c)
    return VersionTerm(op=VersionOp.EXACT, raw=raw, floor=floor, fixed=3, ext=ext)


def _bad_version(raw: str, why: str) -> QuerySyntaxError:
    return QuerySyntaxError(f"Invalid version '{raw}': {why}")


def _v2_parts(raw: str) -> list[tuple[str | None, str | None]]:
    """The (number, operator) of each part of a v2 wildcard version."""
    parts = raw.split(".")
    if len(parts) > 3:
        raise _bad_version(raw, _V2_VERSION_HELP)
    result: list[tuple[str | None, str | None]] = []
    for part in parts:
        m = _V2_PART.fullmatch(part)
        if not part or m is None:
            raise _bad_version(raw, _V2_VERSION_HELP)
        result.append((m.group(1), m.group(2)))
    return result


def _check_v2_wildcard(raw: str, parts: list[tuple[str | None, str | None]], at: int) -> None:
    """The rules of sdmx-rest ``doc/querying_versions.md`` ("Unsupported syntax")."""
    number, op = parts[at]
    if number is None and any(n != "0" for n, _ in parts[at + 1 :]):
        fixed = ".".join([*raw.split(".")[: at + 1], *["0"] * (len(parts) - at - 1)])
        raise _bad_version(raw, f"parts after a bare '{op}' must be 0 (use {fixed})")
    if number is not None and len(parts) == 1:
        raise _bad_version(raw, f"'{op}' after the major part needs a minor part (e.g. {raw}.0)")
    if op == "+" and len(parts) != 3:
        raise _bad_version(raw, "'+' selects stable X.Y.Z versions: give three parts (e.g. 1.+.0)")
    if op == "+" and parts[0][0] == "0":
        raise _bad_version(raw, "'+' selects stable versions, whose major part is above 0")


def _parse_v2_term(raw: str) -> VersionTerm:
    if raw in _V2_OPS:
        return VersionTerm(op=_V2_OPS[raw], raw=raw)
    m = _V2_EXACT.fullmatch(raw)
    if m is not None:
        return _exact_term(raw, [g for g in m.groups()[:3] if g is not None], m.group(4))
    parts = _v2_parts(raw)
    ops = [i for i, (_, op) in enumerate(parts) if op is not None]
    if len(ops) != 1:
        raise _bad_version(raw, "use one of the operators '+', '~' and '*' at most once")
    at = ops[0]
    _check_v2_wildcard(raw, parts, at)
    a, b, c = (*(int(n or 0) for n, _ in parts), 0, 0)[:3]
    return VersionTerm(op=_V2_OPS[str(parts[at][1])], raw=raw, floor=(a, b, c), fixed=at)


def _eligible(op: VersionOp, version: str, parsed: _Parsed, unstable: Collection[str]) -> bool:
    if op is VersionOp.STABLE:
        return parsed.ext is None and version not in unstable and parsed.numbers[0] > 0
    if op is VersionOp.FINAL:
        return parsed.ext is None and version not in unstable
    return True


def _matches_exact(term: VersionTerm, version: str, parsed: _Parsed | None) -> bool:
    if version == term.raw:
        return True
    return parsed is not None and parsed == (term.floor, term.ext)


def _select_term(
    term: VersionTerm,
    available: Sequence[tuple[str, _Parsed | None]],
    unstable: Collection[str],
) -> list[str]:
    if term.op is VersionOp.EXACT:
        return [v for v, p in available if _matches_exact(term, v, p)]
    if term.op is VersionOp.ALL and term.is_bare:
        return [v for v, _ in available]
    floor = term.floor or (0, 0, 0)
    pool = [
        (v, p)
        for v, p in available
        if p is not None
        and p.numbers[: term.fixed] == floor[: term.fixed]
        and p.numbers >= floor
        and _eligible(term.op, v, p, unstable)
    ]
    if term.op is VersionOp.ALL:
        return [v for v, _ in pool]
    return [max(pool, key=_sort_key)[0]] if pool else []


class VersionSelector(msgspec.Struct, frozen=True):
    """The version part of a structure query: one or more terms, OR-ed.

    Versions are compared as SDMX 3.0 semantic versions, a legacy ``X.Y`` reading as ``X.Y.0``
    and ``X`` as ``X.0.0``. So ``1.0`` and ``1.0.0`` are equal, ``1.*`` and ``1.*.0`` are the
    same query, and ``+`` treats a final ``1.0`` as the stable ``1.0.0``. sdmx-rest
    distinguishes two-part from three-part forms (``~.0`` only matches ``x.y``); we do not,
    because ILOSTAT-style ``1.0`` artefacts would otherwise never match ``+``. A version that is
    not numeric matches only ``*``/``all`` and an exact query for the same string.
    """

    terms: tuple[VersionTerm, ...]

    @classmethod
    def parse_v1(cls, segment: str | None) -> VersionSelector:
        """``all``, ``latest`` (the default) or ``1.0+2.1``."""
        if segment is None or segment == "latest":
            return cls((VersionTerm(op=VersionOp.FINAL, raw="latest"),))
        if segment == "all":
            return cls((VersionTerm(op=VersionOp.ALL, raw="all"),))
        values = list(dict.fromkeys(segment.split("+")))
        for value in values:
            if not _V1_VERSION.fullmatch(value):
                raise _bad_version(
                    value,
                    "expected a version such as 1.0, 'all' or 'latest'; several exact "
                    "versions separated by '+' (e.g. 1.0+2.1)",
                )
        return cls(tuple(_exact_term(v, v.split(".")) for v in values))

    @classmethod
    def parse_v2(cls, segment: str | None) -> VersionSelector:
        """Anything sdmx-rest ``doc/querying_versions.md`` allows; ``~`` is the default."""
        if segment is None:
            return cls((VersionTerm(op=VersionOp.LATEST, raw="~"),))
        return cls(tuple(_parse_v2_term(v) for v in dict.fromkeys(segment.split(","))))

    @property
    def exact_versions(self) -> tuple[str, ...] | None:
        """The versions asked for when every term is exact (for a storage filter), else None."""
        if all(t.op is VersionOp.EXACT for t in self.terms):
            return tuple(t.raw for t in self.terms)
        return None

    def select(self, available: Iterable[str], unstable: Collection[str] = ()) -> list[str]:
        """The versions of one artefact (agency + id) this selector picks, in the given order.

        ``unstable`` names versions that are not final even without a ``-EXT`` extension (an
        SDMX 2.1 ``isFinal="false"`` artefact); ``+`` and v1 ``latest`` skip them.
        """
        versions = list(dict.fromkeys(available))
        parsed = [(v, _parse_stored(v)) for v in versions]
        chosen: set[str] = set()
        for term in self.terms:
            chosen.update(_select_term(term, parsed, unstable))
        return [v for v in versions if v in chosen]

    def matches(
        self, version: str, all_versions: Iterable[str], unstable: Collection[str] = ()
    ) -> bool:
        """Whether ``version`` is picked among ``all_versions`` (the artefact's versions)."""
        return version in self.select([*all_versions, version], unstable)


# --- Path segments and parameters -----------------------------------------------------------


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def _parse_type(name: str | None, api: ApiVersion) -> tuple[StructureType, ...]:
    """The types a type/resource segment names: all of them for the "any type" keyword."""
    any_name = _ANY_TYPE[api]
    key = any_name if name is None else name.lower()
    if key == any_name:
        return _ALL_TYPES
    served = _SERVED[api]
    if key in served:
        return (served[key],)
    if key in _UNSERVED[api]:
        raise NotImplementedYet(
            f"Structure type '{name}' is standard SDMX REST v{api.value} but not served here; "
            f"served: {_names([*served, any_name])}"
        )
    raise QuerySyntaxError(
        f"Unknown structure type '{name}'; allowed: {_names([*served, any_name])}"
    )


def _parse_ids(
    segment: str | None, api: ApiVersion, what: str, pattern: re.Pattern[str]
) -> tuple[str, ...] | None:
    """A list of identifiers, or None for the wildcard (or a missing segment)."""
    wildcard, sep = _WILDCARD[api], _SEPARATOR[api]
    if segment is None or segment == wildcard:
        return None
    values = tuple(dict.fromkeys(segment.split(sep)))
    if api is ApiVersion.V2 and wildcard in values:
        return None
    for value in values:
        if not pattern.fullmatch(value):
            where = "" if value == segment else f" in '{segment}'"
            raise QuerySyntaxError(
                f"Invalid {what} '{value}'{where}: expected an SDMX identifier, "
                f"several separated by '{sep}', or '{wildcard}' for any"
            )
    return values


def _parse_items(
    item: str | None, api: ApiVersion, types: tuple[StructureType, ...], name: str | None
) -> tuple[tuple[StructureType, ...], tuple[str, ...] | None]:
    """The item ids, and the types narrowed to the item schemes they apply to."""
    items = _parse_ids(item, api, "item id", _ITEM_ID)
    if items is None:
        return types, None
    any_type = len(types) > 1
    if any_type and api is ApiVersion.V2:
        return ITEM_SCHEME_TYPES, items
    if any_type or types[0] not in ITEM_SCHEME_TYPES:
        name = _ANY_TYPE[api] if name is None else name
        raise QuerySyntaxError(
            f"Item id '{item}' given for '{name}': item queries apply to item schemes only "
            f"({_names(t.value for t in ITEM_SCHEME_TYPES)})"
        )
    return types, items


def _parse_detail(value: str | None, api: ApiVersion) -> Detail:
    allowed = [d.value for d in Detail if api is ApiVersion.V2 or d is not Detail.RAW]
    key = (value or Detail.FULL.value).lower()
    if key not in allowed:
        raise QuerySyntaxError(
            f"Invalid detail '{value}' for SDMX REST v{api.value}; allowed: {', '.join(allowed)}"
        )
    return Detail(key)


def _reference_token(token: str, api: ApiVersion) -> ReferenceScope | StructureType | None:
    key = token.lower()
    scopes = [
        s.value for s in ReferenceScope if api is ApiVersion.V2 or s is not ReferenceScope.ANCESTORS
    ]
    if key in scopes:
        return ReferenceScope(key)
    served = {**_SERVED[api], **_REFERENCE_ALIASES[api]}
    if key in served:
        return served[key]
    if key in _REFERENCE_NOTHING[api]:
        return None
    raise QuerySyntaxError(
        f"Invalid references '{token}' for SDMX REST v{api.value}; allowed: none, "
        f"{', '.join(scopes)} or a structure type ({_names(served)}"
        f"{', ...' if _REFERENCE_NOTHING[api] else ''})"
    )


def _parse_references(
    value: str | None, api: ApiVersion
) -> frozenset[ReferenceScope | StructureType]:
    """v1 takes one value, v2 a comma-separated list. ``none`` is the empty set."""
    if not value:
        return frozenset()
    tokens = value.split(",") if api is ApiVersion.V2 else [value]
    if "none" in (t.lower() for t in tokens):
        if len(tokens) > 1:
            raise QuerySyntaxError(f"Invalid references '{value}': 'none' excludes other values")
        return frozenset()
    parsed = (_reference_token(t, api) for t in tokens)
    return frozenset(p for p in parsed if p is not None)


def parse_as_of(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise QuerySyntaxError(
            f"Invalid asOf '{value}': expected an ISO 8601 date-time (e.g. 2024-01-31T12:00:00Z)"
        ) from None


# --- The query ------------------------------------------------------------------------------


class StructureQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed structure (or item scheme) query, the same for both API versions.

    None means "any" for ``agencies``, ``ids`` and ``items``. ``types`` lists every type the
    query covers (all served types for v1 ``structure`` and v2 ``*``; only item schemes when
    v2 ``*`` comes with item ids). An empty ``references`` means ``none``.
    ``as_of`` (v2 ``asOf``, time travel) is parsed only: the caller honours it or raises 501.
    """

    api: ApiVersion
    types: tuple[StructureType, ...]
    agencies: tuple[str, ...] | None
    ids: tuple[str, ...] | None
    version: VersionSelector
    items: tuple[str, ...] | None
    references: frozenset[ReferenceScope | StructureType]
    detail: Detail
    as_of: dt.datetime | None = None

    @property
    def is_item_query(self) -> bool:
        return self.items is not None

    @classmethod
    def parse_v1(
        cls,
        resource: str,
        agency: str | None,
        resource_id: str | None,
        version: str | None,
        item: str | None,
        params: Mapping[str, str],
    ) -> StructureQuery:
        """``/{resource}/{agencyID}/{resourceID}/{version}/{itemID}?detail=&references=``."""
        types, items = _parse_items(
            item, ApiVersion.V1, _parse_type(resource, ApiVersion.V1), resource
        )
        return cls(
            api=ApiVersion.V1,
            types=types,
            agencies=_parse_ids(agency, ApiVersion.V1, "agency id", _AGENCY_ID),
            ids=_parse_ids(resource_id, ApiVersion.V1, "resource id", _RESOURCE_ID),
            version=VersionSelector.parse_v1(version),
            items=items,
            references=_parse_references(params.get("references"), ApiVersion.V1),
            detail=_parse_detail(params.get("detail"), ApiVersion.V1),
        )

    @classmethod
    def parse_v2(
        cls,
        structure_type: str | None,
        agency: str | None,
        resource_id: str | None,
        version: str | None,
        item: str | None,
        params: Mapping[str, str],
    ) -> StructureQuery:
        """``/structure/{type}/{agencyID}/{resourceID}/{version}/{itemID}?detail=&...``."""
        types, items = _parse_items(
            item, ApiVersion.V2, _parse_type(structure_type, ApiVersion.V2), structure_type
        )
        return cls(
            api=ApiVersion.V2,
            types=types,
            agencies=_parse_ids(agency, ApiVersion.V2, "agency id", _AGENCY_ID),
            ids=_parse_ids(resource_id, ApiVersion.V2, "resource id", _RESOURCE_ID),
            version=VersionSelector.parse_v2(version),
            items=items,
            references=_parse_references(params.get("references"), ApiVersion.V2),
            detail=_parse_detail(params.get("detail"), ApiVersion.V2),
            as_of=parse_as_of(params.get("asOf")),
        )


parse_v1 = StructureQuery.parse_v1
parse_v2 = StructureQuery.parse_v2
