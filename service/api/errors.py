"""Render SDMX errors in the format the client negotiated (SDMX-ML 2.1 when nothing fits)."""

from __future__ import annotations

import datetime as dt
import uuid

from service.errors import SdmxError
from service.formats.base import Header
from service.formats.media_types import (
    SDMX_JSON_20_STRUCTURE,
    SDMX_ML_21_STRUCTURE,
    STRUCTURE_WRITERS,
)
from service.query.negotiation import negotiate
from service.query.structure import ApiVersion

#: The newest SDMX-JSON error message: for clients that take JSON only, in no version served.
NEWEST_JSON_ERROR = SDMX_JSON_20_STRUCTURE


def api_version_of(path: str) -> ApiVersion:
    return ApiVersion.V2 if path.startswith("/rest/v2") else ApiVersion.V1


def wants_only_json(accept: str | None, fmt: str | None) -> bool:
    """Whether the client asked for JSON and nothing else: ``format`` (which overrides
    Accept) names a JSON format, or every media range Accept takes (``q`` above 0) is a JSON
    type (``application/json``, ``…+json``), whatever its version."""
    if fmt:
        return "json" in fmt.lower()
    taken = []
    for part in (accept or "").split(","):
        mime, *params = (p.strip().lower() for p in part.split(";"))
        if not mime:
            continue
        q = next((p.partition("=")[2] for p in params if p.replace(" ", "").startswith("q=")), "1")
        try:
            refused = float(q) <= 0
        except ValueError:
            refused = False
        if not refused:
            taken.append(mime)
    return bool(taken) and all("json" in mime.partition("/")[2] for mime in taken)


def error_media_type(path: str, accept: str | None, fmt: str | None) -> str:
    """The format of an error: what the client would get on success, else SDMX-JSON's newest
    error for a client that takes only JSON (of a version not served, say), else the API's
    default."""
    api = api_version_of(path)
    try:
        return negotiate(accept, fmt, api, list(STRUCTURE_WRITERS))
    except SdmxError:
        if wants_only_json(accept, fmt):
            return NEWEST_JSON_ERROR
        return SDMX_JSON_20_STRUCTURE if api is ApiVersion.V2 else SDMX_ML_21_STRUCTURE


def render_error(
    error: SdmxError, path: str, accept: str | None, fmt: str | None, sender: str
) -> tuple[bytes, str]:
    media_type = error_media_type(path, accept, fmt)
    header = Header(
        id=f"IREF{uuid.uuid4().hex[:12]}", prepared=dt.datetime.now(dt.UTC), sender=sender
    )
    return STRUCTURE_WRITERS[media_type].write_error(error, header=header), media_type
