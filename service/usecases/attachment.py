"""Where attribute values attach: the key under which one is stored and found again.

An attribute above observation level is stored once per distinct combination of the codes of
the dimensions it attaches to: the ``attach_key`` spells the key dimensions in DSD order with
those codes and empty parts elsewhere, plus ``@`` and the period when it attaches to the time
dimension; the data set level is the empty key.
"""

from __future__ import annotations

from service.model import AttributeRelationship, DataStructure


def dimensions_of(rel: AttributeRelationship, dsd: DataStructure) -> AttributeRelationship:
    """A relationship with group attachments resolved to the group's dimensions."""
    if rel.level == "group" and rel.group:
        group = next((g for g in dsd.groups if g.id == rel.group), None)
        if group is not None:
            return AttributeRelationship(level="dimensions", dimensions=group.dimensions)
    return rel


def attach_key(
    rel: AttributeRelationship,
    dims: tuple[str, ...],
    parts: list[str | None],
    period: str | None,
    time_dim: str | None,
) -> str | None:
    """Where an attribute value attaches; None when the row lacks a dimension it needs."""
    if rel.level == "dataset":
        return ""
    wanted = set(rel.dimensions)
    key = []
    for dim, code in zip(dims, parts, strict=True):
        if dim in wanted:
            if not code:
                return None
            key.append(code)
        else:
            key.append("")
    joined = ".".join(key)
    if time_dim is not None and time_dim in wanted:
        if period is None:
            return None
        return f"{joined}@{period}"
    return joined
