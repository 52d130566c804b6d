"""Key filters cut to the codes a dataflow's constraint allows (usecases.data._cut_to_allowed):
the same series match, with fewer codes to bind."""

from __future__ import annotations

from service.usecases.data import _cut_to_allowed

A, B, C = frozenset({"A"}), frozenset({"A", "B"}), frozenset({"C"})
ALLOWED_AB = frozenset({"A", "B"})


def test_a_named_dimension_needs_no_filter_of_its_own() -> None:
    keys, allowed = _cut_to_allowed(((C | A, None),), [ALLOWED_AB, ALLOWED_AB])
    assert keys == ((A, None),)  # C is not allowed: cut
    assert allowed == (None, ALLOWED_AB)  # the wildcard dimension keeps its filter


def test_a_key_with_no_allowed_code_goes() -> None:
    keys, allowed = _cut_to_allowed(((C, None), (B, None)), [ALLOWED_AB, None])
    assert keys == ((B, None),)
    assert allowed == (None, None)


def test_nothing_is_cut_when_no_key_would_be_left() -> None:
    """(an empty key list would match every series)"""
    keys, allowed = _cut_to_allowed(((C, None),), [ALLOWED_AB, None])
    assert keys == ((C, None),)
    assert allowed == (ALLOWED_AB, None)


def test_wildcards_keep_the_constraint() -> None:
    keys, allowed = _cut_to_allowed(((None, A), (A, None)), [ALLOWED_AB, ALLOWED_AB])
    assert keys == ((None, A), (A, None))
    assert allowed == (ALLOWED_AB, ALLOWED_AB)
    assert _cut_to_allowed((), [ALLOWED_AB]) == ((), (ALLOWED_AB,))
