"""Module for writing SDMX-ML 2.1 and 3.0 RegistryInterface SubmitStructureResponse messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from lxml import etree

from service.formats import xml_common as xc
from service.formats.base import Header
from service.formats.writers.sdmx_ml_30_structure import sdmx_30_class
from service.model.urn import package_of, urn

RegistryVersion = Literal["2.1", "3.0"]

#: The registry media types (sdmx-rest ``doc/registration.md`` names the 3.0.0 one).
MEDIA_TYPES: Final[dict[RegistryVersion, str]] = {
    "2.1": "application/vnd.sdmx.registry+xml;version=2.1",
    "3.0": "application/vnd.sdmx.registry+xml;version=3.0.0",
}
#: SDMX-ML 2.1 ``IDType``, ``NestedNCNameIDType`` and ``VersionType``: a ``Ref`` they would not
#: validate (a ``1.0.0-draft`` version, a refused id echoed back) is left out; the URN stays.
_ID_21: Final = re.compile(r"[A-Za-z0-9_@$\-]+")
_AGENCY_21: Final = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z][A-Za-z0-9_\-]*)*")
_VERSION_21: Final = re.compile(r"[0-9]+(\.[0-9]+)*")
#: ``BasicHeaderType`` requires a receiver; the client has no SDMX party id here.
RECEIVER: Final = "unknown"


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """The outcome of one submitted (or deleted) maintainable artefact."""

    sdmx_class: str
    agency: str
    id: str
    version: str
    #: ``Append``, ``Replace`` or ``Delete``: the action requested (and taken, on success).
    action: str
    #: An HTTP status for this artefact (201, 200, 404, 409...), written as the message code.
    code: int
    text: str

    @property
    def success(self) -> bool:
        return self.code < 400


def _namespaces(version: RegistryVersion) -> tuple[xc.Namespaces, str]:
    ns = xc.SDMX_ML_21 if version == "2.1" else xc.SDMX_ML_30
    return ns, ns.message.removesuffix("message") + "registry"


def write_submit_structure_response(
    results: Sequence[SubmissionResult], *, version: RegistryVersion, header: Header
) -> bytes:
    """A ``RegistryInterface`` holding a ``SubmitStructureResponse`` (``results`` not empty)."""
    ns, registry = _namespaces(version)
    root = xc.new_message(ns, "RegistryInterface", header)
    etree.SubElement(root[0], ns.m("Receiver"), {"id": RECEIVER})  # root[0]: the Header
    response = etree.SubElement(root, ns.m("SubmitStructureResponse"), nsmap={"registry": registry})
    for result in results:
        _add_result(response, ns, registry, result, version)
    return xc.to_bytes(root)


def _add_result(
    parent: etree._Element,
    ns: xc.Namespaces,
    registry: str,
    result: SubmissionResult,
    version: RegistryVersion,
) -> None:
    el = etree.SubElement(parent, f"{{{registry}}}SubmissionResult")
    submitted = etree.SubElement(el, f"{{{registry}}}SubmittedStructure", {"action": result.action})
    target = etree.SubElement(submitted, f"{{{registry}}}MaintainableObject")
    if version == "3.0":
        target.text = _urn(result, sdmx_30_class(result.sdmx_class))
    else:
        _add_ref_21(target, result)
    status = etree.SubElement(
        el, f"{{{registry}}}StatusMessage", {"status": "Success" if result.success else "Failure"}
    )
    text = etree.SubElement(status, f"{{{registry}}}MessageText", {"code": str(result.code)})
    xc.add_texts(text, ns.c("Text"), {xc.DEFAULT_LANG: result.text})


def _add_ref_21(target: etree._Element, result: SubmissionResult) -> None:
    """``<Ref>`` (when its fields fit SDMX-ML 2.1) and ``<URN>``, both unqualified."""
    if (
        _AGENCY_21.fullmatch(result.agency)
        and _ID_21.fullmatch(result.id)
        and _VERSION_21.fullmatch(result.version)
    ):
        attrib = {
            "agencyID": result.agency,
            "id": result.id,
            "version": result.version,
            "class": result.sdmx_class,
            "package": package_of(result.sdmx_class),
        }
        etree.SubElement(target, "Ref", attrib)
    etree.SubElement(target, "URN").text = _urn(result, result.sdmx_class)


def _urn(result: SubmissionResult, sdmx_class: str) -> str:
    return urn(sdmx_class, result.agency, result.id, result.version)
