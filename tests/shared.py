"""Where the public reference files (``../shared``) are, and a skip for when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ILMS_SHARED", ROOT.parent / "shared"))
ILO_SPECIMEN_NAME = "ILO-codelist-CL_ECO-parentsandsiblings.2026-05-18.DECODED.xml"
ILO_SPECIMEN = SHARED / "specimens" / "ILO" / ILO_SPECIMEN_NAME


requires_shared = pytest.mark.skipif(
    not (SHARED / "ILMS.md").is_file(),
    reason=f"the public reference files are not at {SHARED} (set ILMS_SHARED to their folder)",
)
