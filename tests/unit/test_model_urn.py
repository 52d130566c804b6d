"""SDMX URNs are built and parsed in one place, service.model.urn."""

from __future__ import annotations

import pytest

from service.model import ARTEFACT_CLASSES, Codelist, Ref
from service.model.urn import PACKAGES, package_of, parse_urn, ref_urn, urn

U = "urn:sdmx:org.sdmx.infomodel"


def test_artefact_and_item_urns() -> None:
    assert urn("Codelist", "ILO", "CL_SEX", "1.0") == f"{U}.codelist.Codelist=ILO:CL_SEX(1.0)"
    assert urn("Category", "ILO", "CAS", "1.0", "A.A1") == (
        f"{U}.categoryscheme.Category=ILO:CAS(1.0).A.A1"
    )


def test_unknown_class() -> None:
    with pytest.raises(ValueError, match="no SDMX package known for class 'Widget'"):
        urn("Widget", "ILO", "W", "1.0")
    with pytest.raises(ValueError, match="Widget"):
        package_of("Widget")


def test_ref_urn_may_rename_the_class() -> None:
    ref = Ref(cls="ContentConstraint", agency="ILO", id="CR", version="1.0")
    assert ref_urn(ref) == f"{U}.registry.ContentConstraint=ILO:CR(1.0)"
    assert ref_urn(ref, "DataConstraint") == f"{U}.registry.DataConstraint=ILO:CR(1.0)"


def test_every_artefact_class_has_a_package() -> None:
    assert all(cls.sdmx_class in PACKAGES for cls in ARTEFACT_CLASSES)


def test_maintainable_urn() -> None:
    codelist = Codelist(agency="ILO", id="CL_SEX", version="1.1")
    assert codelist.urn == urn("Codelist", "ILO", "CL_SEX", "1.1")
    assert parse_urn(codelist.urn) == codelist.ref()


@pytest.mark.parametrize(
    "ref",
    [
        Ref(cls="Codelist", agency="ILO", id="CL_SEX"),
        Ref(cls="Code", agency="SDMX.X", id="CL_A", version="1.0.0", item="B"),
        Ref(cls="Category", agency="ESTAT", id="DS", item="PSC.DEM.TOT"),
        Ref(cls="DataConstraint", agency="ILO", id="CR", version="2.0.0-draft"),
    ],
)
def test_parse_urn_reverses_ref_urn(ref: Ref) -> None:
    assert parse_urn(f"  {ref_urn(ref)}\n") == ref


@pytest.mark.parametrize(
    "text", ["urn:isbn:0451450523", f"{U}.codelist.Codelist=ILO:CL_SEX", f"{U}.codelist=ILO:X(1)"]
)
def test_parse_urn_refuses_what_is_not_a_urn(text: str) -> None:
    with pytest.raises(ValueError, match="is not an SDMX artefact URN"):
        parse_urn(text)
