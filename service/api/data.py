"""SDMX REST data queries: v1 ``/rest/data/{flowRef}/{key}/{providerRef}`` and v2
``/rest/v2/data/{context}/{agencyID}/{resourceID}/{version}/{key}``, GET and HEAD.

Everything that can fail is checked before the first byte (format 406, syntax 400, unknown
artefact 404, too large 413, nothing matches: v1 404, v2 204 as sdmx-rest ``doc/status.md``
prefers) and answered as an SDMX error message in the format the client negotiated; then the
data stream from the store through the negotiated writer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.answers import ReadCaches, serve_read
from service.api.auth import register_reads
from service.api.conditional import http_date
from service.api.errors import render_error
from service.errors import NoResultsFound, SdmxError
from service.formats.base import Lang
from service.formats.writers.data_common import DataFormat, DataMessage
from service.formats.writers.data_formats import (
    BY_MEDIA_TYPE,
    CATALOGUE,
    OFFERED,
    error_media_type,
)
from service.query.data import DataParams
from service.query.negotiation import Negotiated, negotiate_language, negotiate_with_params
from service.query.structure import ApiVersion
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.usecases import csv_export, json_export, pg_export, ss_export
from service.usecases.data import (
    DataPlan,
    DataState,
    DataTarget,
    MessageOptions,
    build_message,
    check_format,
    content_language,
    plan_query,
    run_query,
)

router = APIRouter(tags=["data"])

V1_PATHS = [
    "/rest/data/{flow_ref}",
    "/rest/data/{flow_ref}/{key}",
    "/rest/data/{flow_ref}/{key}/{provider_ref}",
]
#: Shorter v2 paths select several artefacts: the catch-all answers them (501).
V2_PATHS = [
    "/rest/v2/data/{context}/{agency}/{resource_id}",
    "/rest/v2/data/{context}/{agency}/{resource_id}/{version}",
    "/rest/v2/data/{context}/{agency}/{resource_id}/{version}/{key}",
]
_VARY = "Accept, Accept-Language"


def _negotiate(request: Request, api: ApiVersion) -> tuple[DataFormat, Negotiated]:
    params = request.query_params
    negotiated = negotiate_with_params(
        request.headers.get("accept"),
        params.get("format"),
        api,
        OFFERED,
        fmt_version=params.get("formatVersion"),
        catalogue=CATALOGUE,
    )
    return BY_MEDIA_TYPE[negotiated.media_type], negotiated


def _etag(
    request: Request, state: DataState, structures: str, negotiated: Negotiated, language: str
) -> str:
    """A weak tag: the same data, structures (names, constraints), query and format give the
    same content (the header's id and preparation time aside)."""
    query = sorted(request.query_params.multi_items())
    basis = (state.tag, structures, request.url.path, query, negotiated, language)
    return f'W/"{hashlib.sha256(repr(basis).encode()).hexdigest()[:32]}"'


def _headers(
    target: DataTarget, fmt: DataFormat, etag: str, state: DataState, language: str
) -> dict[str, str]:
    headers = {
        "ETag": etag,
        "Vary": _VARY,
        "Cache-Control": "no-cache",
        "Content-Language": language,
    }
    if state.last_changed is not None and (date := http_date(state.last_changed)):
        headers["Last-Modified"] = date
    if fmt.extension == "csv":
        agency, resource_id, version = target.ref
        name = f"{agency}_{resource_id}_{version}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return headers


def _error(request: Request, error: SdmxError, fmt: DataFormat | None, sender: str) -> Response:
    """The error in the SDMX-ML or SDMX-JSON version that goes with the negotiated data format
    (SDMX-CSV, or no format: as structure errors are)."""
    if fmt is not None:
        accept, chosen = error_media_type(fmt.media_type), None
    else:
        accept, chosen = request.headers.get("accept"), request.query_params.get("format")
    body, media_type = render_error(error, request.url.path, accept, chosen, sender)
    return Response(
        body, status_code=error.http_status, media_type=media_type, headers={"Vary": _VARY}
    )


def _answer(
    request: Request,
    session: Session,
    api: ApiVersion,
) -> Response:
    """Negotiate, check, then stream (or 304, or the v2 204); errors as SDMX messages."""
    settings: Settings = request.app.state.settings
    fmt: DataFormat | None = None
    try:
        fmt, negotiated = _negotiate(request, api)
        params = DataParams.parse(request.query_params.multi_items())
        repo = StructureRepository(session)
        caches: ReadCaches = request.app.state.read_caches
        harvest = params.updated_after is not None
        target, structures, state = caches.target(repo, api, request, harvest=harvest)
        plan = plan_query(target, request.path_params.get("key"), params, api)
        check_format(plan, fmt)
        return _respond(request, session, settings, plan, fmt, negotiated, structures, state)
    except SdmxError as error:
        return _error(request, error, fmt, settings.sender_id)


def _respond(
    request: Request,
    session: Session,
    settings: Settings,
    plan: DataPlan,
    fmt: DataFormat,
    negotiated: Negotiated,
    structures: str,
    state: DataState,
) -> Response:
    """304, 204 (v2, nothing matches), HEAD's headers, a kept answer, or the data streaming."""
    lang, etag, headers = _validators(request, plan.target, structures, state, fmt, negotiated)
    caches: ReadCaches = request.app.state.read_caches
    if (known := caches.revalidated(request, state, etag, headers)) is not None:
        return known
    options = MessageOptions(lang, settings.sender_id, dict(negotiated.params))
    message = build_message(plan, options)
    cap = settings.max_data_observations
    chunks: Iterator[bytes] | None
    export = _written_by_postgresql(session, settings, plan, fmt, message, state)
    if export is not None:
        chunks = export()
    else:
        parts = run_query(session, plan, state, cap=cap)
        chunks = None if parts is None else fmt.write(message, parts)
    if chunks is None:
        if plan.api is ApiVersion.V2:
            return Response(status_code=204, headers={"Vary": _VARY})
        raise NoResultsFound(f"no data for {plan.target.flow.label} match the query")
    # The first chunk is made before the response starts: what the writer refuses is still
    # an error response (HEAD too, so that it answers what GET would).
    first = next(chunks, b"")
    whole = export is None  # an export is large: its first byte goes as soon as it is made
    return caches.respond(request, etag, fmt.media_type, first, chunks, headers, whole=whole)


def _written_by_postgresql(
    session: Session,
    settings: Settings,
    plan: DataPlan,
    fmt: DataFormat,
    message: DataMessage,
    state: DataState,
) -> Callable[[], Iterator[bytes] | None] | None:
    """A plain full export that PostgreSQL writes itself (SDMX-CSV 2.0 lines, SDMX-ML 2.1
    structure-specific or SDMX-JSON 2.0 series), when the query is one and its answer holds at
    least ``export_min_observations``: a smaller one costs less on the general path."""
    ds = state.dataset_pk
    if ds is None:
        return None
    cap, streams = settings.max_data_observations, settings.export_streams
    export: Callable[[], Iterator[bytes] | None]
    if csv_export.applies(plan, fmt, message, session):
        export = partial(csv_export.export, session, plan, ds, message, cap=cap, streams=streams)
    elif ss_export.applies(plan, fmt, message, session):
        export = partial(
            ss_export.export, session, plan, ds, message, fmt, cap=cap, streams=streams
        )
    elif json_export.applies(plan, fmt, message, session):
        export = partial(json_export.export, session, plan, ds, message, cap=cap, streams=streams)
    else:
        return None
    return export if pg_export.large(session, plan, ds, settings.export_min_observations) else None


def _validators(
    request: Request,
    target: DataTarget,
    structures: str,
    state: DataState,
    fmt: DataFormat,
    negotiated: Negotiated,
) -> tuple[Lang, str, dict[str, str]]:
    """The languages asked for, the answer's ETag and its headers."""
    lang = Lang(negotiate_language(request.headers.get("accept-language")) or ("en",))
    language = content_language(lang, target)
    etag = _etag(request, state, structures, negotiated, language)
    return lang, etag, _headers(target, fmt, etag, state, language)


def _serve(request: Request, api: ApiVersion) -> Awaitable[Response]:
    def tag_and_headers(
        target: DataTarget, structures: str, state: DataState
    ) -> tuple[str, dict[str, str]] | None:
        try:
            fmt, negotiated = _negotiate(request, api)
        except SdmxError:
            return None  # the session's answer reports it
        _, etag, headers = _validators(request, target, structures, state, fmt, negotiated)
        return etag, headers

    return serve_read(request, api, tag_and_headers, lambda session: _answer(request, session, api))


async def v1_data(request: Request) -> Response:
    """Path segments come from ``request.path_params``: the shorter paths lack the last ones."""
    return await _serve(request, ApiVersion.V1)


async def v2_data(request: Request) -> Response:
    """Path segments come from ``request.path_params``: the shorter paths lack the last ones."""
    return await _serve(request, ApiVersion.V2)


register_reads(router, "data", V2_PATHS, v2_data, "v2", "SDMX REST v2 data query (SDMX 3.0)")
register_reads(router, "data", V1_PATHS, v1_data, "v1", "SDMX REST v1 data query (SDMX 2.1)")
