"""Key filters cut to the codes a dataflow's constraint allows (usecases.data._cut_to_allowed):
the same series match, with fewer codes to bind; and the codes the constraints allow."""

from __future__ import annotations

from service.model.structures import ContentConstraint, CubeRegion, Dataflow, allowed_codes
from service.usecases.data import _cut_to_allowed
from service.usecases.flows import FlowContext
from tests.unit.validation.conftest import DSD

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


# --- the codes a dataflow's constraints allow -------------------------------------------------

REGIONS = ContentConstraint(
    agency="TEST",
    id="CR_SCOPE",
    cube_regions=(
        CubeRegion(key_values={"REF_AREA": ("THA", "VNM", "THA"), "FREQ": ("A",)}),
        CubeRegion(include=False, key_values={"REF_AREA": ("FRA",), "MEASURE": ("M9",)}),
        CubeRegion(key_values={"REF_AREA": ("LAO", "VNM")}),
    ),
)


def test_a_constraint_allows_each_code_once_in_the_order_first_given() -> None:
    assert REGIONS.allowed_codes("REF_AREA") == ("THA", "VNM", "LAO")
    assert REGIONS.allowed_codes("FREQ") == ("A",)
    assert REGIONS.allowed_codes("MEASURE") is None  # only an excluding region names it


def test_a_flow_works_out_what_its_constraints_allow_as_allowed_codes_does() -> None:
    other = ContentConstraint(
        agency="TEST", id="CR_MORE", cube_regions=(CubeRegion(key_values={"FREQ": ("M",)}),)
    )
    flow = FlowContext(
        dataflow=Dataflow(agency="TEST", id="DF_T", structure=DSD.ref()),
        dsd=DSD,
        constraints=(REGIONS, other),
        codelists={},
        agreements=(),
        provider_constraints={},
    )
    assert flow.allowed("REF_AREA") == frozenset({"THA", "VNM", "LAO"})
    assert flow.allowed("FREQ") == frozenset({"A", "M"})
    for component in [*(c.id for c in DSD.components), "NOT_IN_THE_DSD"]:
        assert flow.allowed(component) == allowed_codes(flow.constraints, component)
