"""Parsing of SDMX REST data query keys (v1 and v2) into per-dimension code filters."""

from __future__ import annotations

from collections.abc import Sequence

from service.errors import QuerySyntaxError
from service.query.structure import ApiVersion

#: Per key dimension, the codes asked for (None: any code).
KeyFilter = tuple[frozenset[str] | None, ...]


def parse_key(key: str | None, dimensions: Sequence[str], api: ApiVersion) -> list[KeyFilter]:
    """The filters a data query key asks for: several keys are OR-ed (v2 ``,``).

    v1: parts separated by ``.``, an empty part matches any code, ``+`` separates codes, and
    ``all`` is every key. v2: the same, with ``*`` for any code and ``,`` between whole keys;
    trailing parts may be left out.
    """
    if key is None or key in ("", "all", "*"):
        return [tuple(None for _ in dimensions)]
    keys = key.split(",") if api is ApiVersion.V2 else [key]
    return [_one_key(k, dimensions, api) for k in keys]


def _one_key(key: str, dimensions: Sequence[str], api: ApiVersion) -> KeyFilter:
    parts = key.split(".")
    if len(parts) > len(dimensions) or (api is ApiVersion.V1 and len(parts) != len(dimensions)):
        raise QuerySyntaxError(
            f"the key {key!r} has {len(parts)} parts; this dataflow's key has "
            f"{len(dimensions)} dimensions ({'.'.join(dimensions)})"
        )
    parts += [""] * (len(dimensions) - len(parts))
    return tuple(_part(p) for p in parts)


def _part(part: str) -> frozenset[str] | None:
    if part in ("", "*"):
        return None
    return frozenset(p for p in part.split("+") if p)


def matches(codes: Sequence[str], filters: Sequence[KeyFilter]) -> bool:
    """Whether a series key (its codes in DSD order) matches any of the key filters."""
    for key in filters:
        if all(
            allowed is None or code in allowed for code, allowed in zip(codes, key, strict=True)
        ):
            return True
    return False


def parse_flow_ref(flow_ref: str) -> tuple[str, str, str]:
    """v1 ``flowRef``: ``ID``, ``AGENCY,ID`` or ``AGENCY,ID,VERSION`` (``all`` any agency,
    ``latest``/``all`` the latest version) as (agency, id, version); ``*`` stands for any."""
    parts = flow_ref.split(",")
    if len(parts) > 3 or not all(parts):
        raise QuerySyntaxError(f"flowRef {flow_ref!r}: expected ID, AGENCY,ID or AGENCY,ID,VERSION")
    if len(parts) == 1:
        parts = ["all", *parts]
    agency, flow_id, version = (*parts, "latest") if len(parts) == 2 else parts
    return (
        "*" if agency == "all" else agency,
        flow_id,
        "latest" if version in ("all", "latest") else version,
    )
