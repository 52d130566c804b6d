"""Content negotiation for SDMX responses and errors: Accept, format, languages.

One algorithm serves structures and data; a :class:`Catalogue` says, per API version, what a
request without a version (or without Accept, or with a generic type such as
``application/json``, or with a ``format=`` name) means for that kind of resource.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from service.errors import NotAcceptable, QuerySyntaxError
from service.query.structure import ApiVersion, VersionSelector

_SDMX = "application/vnd.sdmx."

STRUCTURE_SDMX_ML_2_1 = f"{_SDMX}structure+xml;version=2.1"
STRUCTURE_SDMX_ML_3_0 = f"{_SDMX}structure+xml;version=3.0.0"
STRUCTURE_SDMX_JSON_1_0 = f"{_SDMX}structure+json;version=1.0.0"
STRUCTURE_SDMX_JSON_2_0 = f"{_SDMX}structure+json;version=2.0.0"

_ML = f"{_SDMX}structure+xml"
_JSON = f"{_SDMX}structure+json"


class Flag(enum.IntFlag):
    """What a media type carries, as in sdmx1: (meta)data or structures, SS, time series."""

    DATA = enum.auto()
    META = enum.auto()
    SS = enum.auto()
    TS = enum.auto()


def _split_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and the parameters (keys lower case, quotes removed)."""
    mime, *rest = value.split(";")
    params: dict[str, str] = {}
    for param in rest:
        key, sep, val = param.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return mime.strip().lower(), params


def _pick_versions(wanted: str, versions: Sequence[str]) -> list[str]:
    """The ``versions`` a ``version=`` parameter selects: exact (``3.0`` is ``3.0.0``) or an
    SDMX semantic-version wildcard (``3.0.0+``, ``2+.0.0``), as sdmx-rest
    ``doc/content_negotiation.md`` allows. A malformed value selects nothing (no 400 from a header).
    """
    try:
        return VersionSelector.parse_v2(wanted).select(versions)
    except QuerySyntaxError:
        return []


class MediaType(msgspec.Struct, frozen=True):
    """An SDMX format: ``application/vnd.sdmx.{label}+{base};version={version}``.

    ``full`` replaces the ``application/vnd.sdmx.{label}+{base}`` part for other types.
    """

    label: str
    base: str
    version: str
    flags: Flag = Flag(0)
    full: str | None = None

    @classmethod
    def parse(cls, value: str) -> MediaType:
        mime, params = _split_media_type(value)
        version = params.get("version", "")
        m = re.fullmatch(r"application/vnd\.sdmx\.([a-z0-9.-]+)\+([a-z]+)", mime)
        if m is None:
            return cls(label="", base=mime.rpartition("/")[2], version=version, full=mime)
        return cls(label=m.group(1), base=m.group(2), version=version)

    @property
    def media_range(self) -> str:
        """The type without parameters, lower case."""
        return self.full or f"{_SDMX}{self.label}+{self.base}"

    @property
    def canonical(self) -> str:
        return f"{self.media_range};version={self.version}" if self.version else self.media_range

    def __str__(self) -> str:
        return self.canonical

    def matches(self, header_value: str) -> bool:
        """Whether one media type (``Content-Type`` or one Accept entry) names this format.

        ``charset`` and other parameters are ignored; a ``version`` parameter must select this
        version (``2.1``, ``3.0`` = ``3.0.0``, ``3.0.0+``...); no ``version`` matches any.
        """
        mime, params = _split_media_type(header_value)
        if mime != self.media_range:
            return False
        wanted = params.get("version")
        return wanted is None or _pick_versions(wanted, [self.version]) == [self.version]


#: The structure formats this service writes, canonical strings and parsed.
STRUCTURE_OFFERED: tuple[str, ...] = (
    STRUCTURE_SDMX_ML_2_1,
    STRUCTURE_SDMX_ML_3_0,
    STRUCTURE_SDMX_JSON_1_0,
    STRUCTURE_SDMX_JSON_2_0,
)
STRUCTURE_MEDIA_TYPES: tuple[MediaType, ...] = tuple(MediaType.parse(t) for t in STRUCTURE_OFFERED)


@dataclass(frozen=True)
class ApiProfile:
    """What generic requests mean for one kind of resource in one API version."""

    #: The media type answered without Accept (or with ``*/*``).
    default: str
    #: The version a family (a media type without parameters) means without ``version``.
    family_versions: Mapping[str, str]
    #: Generic media ranges, each standing for an SDMX family (at the API's version).
    aliases: Mapping[str, str]
    #: ``format=`` values (lower case): a family, or a media type with its version.
    names: Mapping[str, str]


@dataclass(frozen=True)
class Catalogue:
    """The negotiation rules of one kind of resource (structures, data), per API version."""

    apis: Mapping[ApiVersion, ApiProfile]


#: Generic types, each standing for the SDMX family in that syntax (at the API's version).
_ALIASES: dict[str, str] = {
    # Generic XML: SDMX-ML is the XML flavour. Browsers send it, and sdmx1 lists it as what
    # BIS, IMF, INSEE, UNICEF... answer for SDMX-ML.
    "application/xml": _ML,
    # The older name for XML (RFC 7303 keeps it as an alias of application/xml).
    "text/xml": _ML,
    # Generic JSON: SDMX-JSON is the JSON flavour; JavaScript fetch() and curl users send it.
    "application/json": _JSON,
}
#: ``format=`` values (case-insensitive). ``structure`` and ``jsonstructure`` are the names
#: sdmx-rest ``doc/extend.md`` proposes (with ``formatVersion``); ``sdmx-ml``/``sdmx-json``
#: and ``xml``/``json`` are the spellings people type. A full media type also works.
_FORMATS: dict[str, str] = {
    "structure": _ML,
    "sdmx-ml": _ML,
    "xml": _ML,
    "jsonstructure": _JSON,
    "sdmx-json": _JSON,
    "json": _JSON,
}
#: Structures. The version a family means without a ``version`` parameter is the SDMX version
#: the API belongs to (v1 is SDMX 2.1: SDMX-ML 2.1 and SDMX-JSON 1.0; v2 is SDMX 3.0). Without
#: Accept (or with ``*/*``): sdmx-rest ``doc/tips.md`` says SDMX 2.1 services return SDMX-ML
#: and SDMX 3.0 services SDMX-JSON; ``doc/structures.md`` makes SDMX-JSON the v2 default.
STRUCTURES = Catalogue(
    {
        ApiVersion.V1: ApiProfile(
            STRUCTURE_SDMX_ML_2_1, {_ML: "2.1", _JSON: "1.0.0"}, _ALIASES, _FORMATS
        ),
        ApiVersion.V2: ApiProfile(
            STRUCTURE_SDMX_JSON_2_0, {_ML: "3.0.0", _JSON: "2.0.0"}, _ALIASES, _FORMATS
        ),
    }
)
_LATEST = VersionSelector.parse_v2("~")


class _Range(NamedTuple):
    """One entry of an Accept header (or the range a ``format=`` value stands for)."""

    mime: str
    version: str | None
    q: float
    position: int
    #: Its other parameters (keys lower case), e.g. SDMX-CSV ``labels``.
    params: tuple[tuple[str, str], ...] = ()


class _Score(NamedTuple):
    specificity: int
    q: float
    position: int
    params: tuple[tuple[str, str], ...] = ()


def _parse_q(value: str | None) -> float | None:
    """The weight, or None when malformed (the entry is then skipped)."""
    if value is None:
        return 1.0
    try:
        q = float(value)
    except ValueError:
        return None
    return q if 0.0 <= q <= 1.0 else None


def _parse_accept(header: str) -> list[_Range]:
    ranges: list[_Range] = []
    for position, part in enumerate(header.split(",")):
        mime, params = _split_media_type(part)
        q = _parse_q(params.pop("q", None))
        if q is not None and mime.count("/") == 1:
            version = params.pop("version", None)
            ranges.append(_Range(mime, version, q, position, tuple(params.items())))
    return ranges


def _unplus(value: str) -> str:
    """Undo a ``+`` a query string decoded to a space (``structure json``, ``3.0.0 ``)."""
    return re.sub(r"(?<=[\w.~*]) (?=[\w.]|$)", "+", value).strip()


def _format_ranges(fmt: str, fmt_version: str | None, profile: ApiProfile) -> list[_Range]:
    value = _unplus(fmt)
    named = profile.names.get(value.lower())
    if named is not None:
        [rng] = _parse_accept(named)
        version = _unplus(fmt_version) if fmt_version else rng.version
        return [rng._replace(version=version or None)]
    ranges = _parse_accept(value) if "/" in value else []
    if not ranges:
        raise NotAcceptable(
            f"Unknown format '{fmt}'; use one of {', '.join(profile.names)} (with "
            f"formatVersion) or a media type such as {profile.default}"
        )
    return ranges


def _resolve(
    family: str, version: str | None, profile: ApiProfile, offered: Sequence[MediaType]
) -> set[int]:
    """The offered types one family range selects. Without ``version``, the family's default
    for the API if offered, else its newest offered version (the client said any will do).
    """
    versions = [m.version for m in offered if m.media_range == family]
    default = profile.family_versions.get(family)
    if version is not None:
        picked = _pick_versions(version, versions)
    elif default in versions:
        picked = [default]
    else:
        picked = _LATEST.select(versions)
    return {i for i, m in enumerate(offered) if m.media_range == family and m.version in picked}


def _range_match(
    rng: _Range, profile: ApiProfile, offered: Sequence[MediaType]
) -> tuple[int, set[int]]:
    """How specific a range is (RFC 9110 12.5.1), and the offered types it covers."""
    if rng.mime == "*/*":
        return 0, set(range(len(offered)))
    if rng.mime.endswith("/*"):
        prefix = rng.mime[:-1]
        return 1, {i for i, m in enumerate(offered) if m.media_range.startswith(prefix)}
    if rng.mime in profile.aliases:
        return 2, _resolve(profile.aliases[rng.mime], rng.version, profile, offered)
    return (4 if rng.version else 3), _resolve(rng.mime, rng.version, profile, offered)


def _scores(
    ranges: Sequence[_Range], profile: ApiProfile, offered: Sequence[MediaType]
) -> dict[int, _Score]:
    """Per offered type, the weight of the most specific range covering it."""
    best: dict[int, _Score] = {}
    for rng in ranges:
        specificity, covered = _range_match(rng, profile, offered)
        for i in covered:
            old = best.get(i)
            if old is None or (specificity, rng.q) > (old.specificity, old.q):
                best[i] = _Score(specificity, rng.q, rng.position, rng.params)
    return best


def _preference(profile: ApiProfile, media_type: MediaType) -> int:
    """Our own order among equally acceptable types: the API default, then API-era versions."""
    if media_type.canonical == profile.default:
        return 2
    return 1 if profile.family_versions.get(media_type.media_range) == media_type.version else 0


def _choose(
    ranges: Sequence[_Range], profile: ApiProfile, offered: Sequence[MediaType]
) -> tuple[int, _Score] | None:
    """Highest q, then the most specific range, then the client's order, then ours."""
    acceptable = [(i, s) for i, s in _scores(ranges, profile, offered).items() if s.q > 0]
    if not acceptable:
        return None
    return max(
        acceptable,
        key=lambda e: (
            e[1].q,
            e[1].specificity,
            -e[1].position,
            _preference(profile, offered[e[0]]),
            -e[0],
        ),
    )


class Negotiated(NamedTuple):
    """The chosen media type, and the parameters of the Accept entry (or ``format=``) that
    chose it besides ``q`` and ``version`` (keys lower case), e.g. SDMX-CSV ``labels``."""

    media_type: str
    params: Mapping[str, str]


def negotiate_with_params(
    accept: str | None,
    fmt: str | None,
    api: ApiVersion,
    offered: Sequence[str] = STRUCTURE_OFFERED,
    *,
    fmt_version: str | None = None,
    catalogue: Catalogue = STRUCTURES,
) -> Negotiated:
    """The member of ``offered`` (canonical media types) to answer with.

    ``fmt`` (the ``format`` query parameter) overrides ``accept``, as sdmx-rest
    ``doc/extend.md`` asks; ``fmt_version`` (``formatVersion``) only counts with it.
    ``catalogue`` says what defaults, generic types and format names mean.

    Raises:
        NotAcceptable: nothing offered is acceptable, or ``fmt`` is unknown.
    """
    profile = catalogue.apis[api]
    types = [MediaType.parse(o) for o in offered]
    if fmt:
        ranges, source = _format_ranges(fmt, fmt_version, profile), f"format '{fmt}'"
        if fmt_version:
            source += f" (formatVersion '{fmt_version}')"
    else:
        ranges, source = _parse_accept(accept or ""), f"Accept '{accept}'"
    if not offered:
        raise NotAcceptable(f"No representation is offered for {source}")
    if not ranges:
        default = profile.default if profile.default in offered else offered[0]
        return Negotiated(default, {})
    chosen = _choose(ranges, profile, types)
    if chosen is None:
        raise NotAcceptable(f"Nothing offered matches {source}; offered: {', '.join(offered)}")
    return Negotiated(offered[chosen[0]], dict(chosen[1].params))


def negotiate(
    accept: str | None,
    fmt: str | None,
    api: ApiVersion,
    offered: Sequence[str] = STRUCTURE_OFFERED,
    *,
    fmt_version: str | None = None,
    catalogue: Catalogue = STRUCTURES,
) -> str:
    """The member of ``offered`` to answer with: :func:`negotiate_with_params` without the
    parameters."""
    return negotiate_with_params(
        accept, fmt, api, offered, fmt_version=fmt_version, catalogue=catalogue
    ).media_type


def negotiate_error(
    accept: str | None,
    fmt: str | None,
    api: ApiVersion,
    offered: Sequence[str] = STRUCTURE_OFFERED,
    *,
    fmt_version: str | None = None,
) -> str:
    """The media type of an error message: as ``negotiate``, never raising.

    When nothing is acceptable (the 406 itself), the API's SDMX-ML flavour (``application/
    vnd.sdmx.structure+xml`` at 2.1 for v1, 3.0.0 for v2) if offered, else the first offered.
    """
    try:
        return negotiate(accept, fmt, api, offered, fmt_version=fmt_version)
    except NotAcceptable:
        fallback = f"{_ML};version={STRUCTURES.apis[api].family_versions[_ML]}"
        return fallback if fallback in offered else offered[0]


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def _canonical_tag(tag: str) -> str:
    """BCP 47 case: ``fr-CH``, ``zh-Hant-TW``, ``en-us`` -> ``en-US``."""
    first, *rest = tag.split("-")
    subtags = [first.lower()]
    for sub in rest:
        subtags.append(
            sub.upper() if len(sub) == 2 else sub.title() if len(sub) == 4 else sub.lower()
        )
    return "-".join(subtags)


def negotiate_language(accept_language: str | None) -> tuple[str, ...]:
    """The languages of an Accept-Language header, best first (for ``formats.base.Lang``).

    Equal weights keep the header's order; ``q=0``, ``*`` and malformed entries are dropped.
    """
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, params = _split_media_type(part)
        q = _parse_q(params.get("q"))
        if q and _LANGUAGE_TAG.fullmatch(tag):
            weighted.append((-q, position, _canonical_tag(tag)))
    return tuple(dict.fromkeys(tag for _, _, tag in sorted(weighted)))
