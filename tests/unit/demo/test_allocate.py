"""Exact integer splits: parts add up, follow the weights, respect caps; two-way margins hold."""

from __future__ import annotations

import pytest

from service.demo.allocate import cross, split, split_capped
from service.demo.model import aggregate, normal_draw


@pytest.mark.parametrize(
    ("total", "weights"),
    [(10, [1, 1, 1]), (7, [0.5, 0.25, 0.25]), (0, [3, 1]), (5, [0, 0]), (1001, [1e-9, 1, 2])],
)
def test_split_adds_up_and_follows_the_weights(total: int, weights: list[float]) -> None:
    parts = split(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    mass = sum(weights) or len(weights)
    for part, weight in zip(parts, weights, strict=True):
        expected = total * (weight if sum(weights) else 1) / mass
        assert abs(part - expected) < 1


def test_split_into_nothing() -> None:
    assert split(0, []) == []
    with pytest.raises(ValueError, match="no parts"):
        split(3, [])


def test_split_capped_respects_caps_and_adds_up() -> None:
    parts = split_capped(100, [10, 1, 1], [20, 50, 50])
    assert parts[0] == 20
    assert sum(parts) == 100
    assert abs(parts[1] - parts[2]) <= 2  # the overflow goes by weight (rounding aside)
    with pytest.raises(ValueError, match="does not fit"):
        split_capped(10, [1, 1], [4, 5])


def test_split_capped_falls_back_on_room_when_weights_are_zero() -> None:
    assert split_capped(6, [0, 0, 1], [3, 3, 0]) == [3, 3, 0]


def test_cross_holds_both_margins() -> None:
    rows = [500, 300, 200]
    columns = {"NATIVE": 850, "FOREIGN": 140, "X": 10}
    table = cross(rows, columns, "NATIVE", {"FOREIGN": [5.0, 1.0, 0.1], "X": [1.0, 1.0, 1.0]})
    assert list(table) == ["NATIVE", "FOREIGN", "X"]
    assert {c: sum(cells) for c, cells in table.items()} == columns
    assert [sum(cells) for cells in zip(*table.values(), strict=True)] == rows
    assert all(v >= 0 for cells in table.values() for v in cells)
    assert table["FOREIGN"][0] > table["FOREIGN"][2]  # the affinity shows


def test_cross_refuses_margins_that_differ() -> None:
    with pytest.raises(ValueError, match="add up"):
        cross([1, 2], {"A": 4}, "A", {})


def test_aggregate_adds_every_total() -> None:
    cube = {("M", "a"): 1, ("M", "b"): 2, ("F", "a"): 3, ("F", "b"): 4}
    full = aggregate(cube, ("T", "TOTAL"))
    assert full[("T", "a")] == 4
    assert full[("M", "TOTAL")] == 3
    assert full[("T", "TOTAL")] == 10
    assert len(full) == 9


def test_draws_are_repeatable_and_roughly_normal() -> None:
    draws = [normal_draw("test", i) for i in range(2000)]
    assert draws == [normal_draw("test", i) for i in range(2000)]
    mean = sum(draws) / len(draws)
    variance = sum((d - mean) ** 2 for d in draws) / len(draws)
    assert abs(mean) < 0.1
    assert 0.85 < variance < 1.15
