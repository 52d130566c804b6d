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


def api_version_of(path: str) -> ApiVersion:
    return ApiVersion.V2 if path.startswith("/rest/v2") else ApiVersion.V1


def error_media_type(path: str, accept: str | None, fmt: str | None) -> str:
    """The format of an error: what the client would get on success, else the API's default."""
    api = api_version_of(path)
    try:
        return negotiate(accept, fmt, api, list(STRUCTURE_WRITERS))
    except SdmxError:
        return SDMX_JSON_20_STRUCTURE if api is ApiVersion.V2 else SDMX_ML_21_STRUCTURE


def render_error(
    error: SdmxError, path: str, accept: str | None, fmt: str | None, sender: str
) -> tuple[bytes, str]:
    media_type = error_media_type(path, accept, fmt)
    header = Header(
        id=f"IREF{uuid.uuid4().hex[:12]}", prepared=dt.datetime.now(dt.UTC), sender=sender
    )
    return STRUCTURE_WRITERS[media_type].write_error(error, header=header), media_type
