"""Exact integer splits: totals into parts that add up, with or without caps per part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` in parts proportional to ``weights`` that add up to it exactly.

    Largest remainders get the units rounding left over (the first part wins a tie); all-zero
    weights split evenly.
    """
    count = len(weights)
    if count == 0:
        if total:
            raise ValueError(f"cannot split {total} into no parts")
        return []
    positive = [max(w, 0.0) for w in weights]
    mass = sum(positive)
    if mass <= 0:
        positive, mass = [1.0] * count, float(count)
    exact = [total * w / mass for w in positive]
    parts = [int(x) for x in exact]
    left = total - sum(parts)
    order = sorted(range(count), key=lambda i: (parts[i] - exact[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def split_capped(total: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """Like ``split``, but no part exceeds its cap: what a full part cannot take goes to the
    others in proportion to their weights (their caps when they weigh nothing)."""
    if total > sum(caps):
        raise ValueError(f"{total} does not fit in caps adding up to {sum(caps)}")
    parts = [0] * len(caps)
    active = [i for i, cap in enumerate(caps) if cap > 0]
    left = total
    while left > 0:
        chosen = [weights[i] for i in active]
        if sum(chosen) <= 0:
            chosen = [float(caps[i] - parts[i]) for i in active]
        overflow = 0
        still: list[int] = []
        for i, share in zip(active, split(left, chosen), strict=True):
            take = min(share, caps[i] - parts[i])
            parts[i] += take
            overflow += share - take
            if parts[i] < caps[i]:
                still.append(i)
        left, active = overflow, still
    return parts


def cross(
    rows: Sequence[int],
    columns: Mapping[str, int],
    rest: str,
    affinity: Mapping[str, Sequence[float]],
) -> dict[str, list[int]]:
    """A two-way table with the given row and column totals (``sum(rows) == sum(columns)``).

    Each column but ``rest`` is spread over the rows in proportion to ``row total x affinity``
    (how over-represented the column is in each row), within what the row has left; ``rest``
    takes what is left of every row, so both sets of totals hold exactly.
    """
    if sum(rows) != sum(columns.values()):
        raise ValueError(f"rows add up to {sum(rows)}, columns to {sum(columns.values())}")
    room = list(rows)
    table: dict[str, list[int]] = {}
    for column, total in columns.items():
        if column == rest:
            continue
        weights = [r * a for r, a in zip(rows, affinity[column], strict=True)]
        cells = split_capped(total, weights, room)
        room = [r - c for r, c in zip(room, cells, strict=True)]
        table[column] = cells
    table[rest] = room
    return {column: table[column] for column in columns}
