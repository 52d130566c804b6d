"""SDMX REST availability queries: v1 ``/rest/availableconstraint/{flowRef}/{key}/{providerRef}/
{componentID}`` and v2 ``/rest/v2/availability/{context}/{agencyID}/{resourceID}/{version}/
{key}/{componentID}`` (trailing parts optional), GET and HEAD.

The answer is a structure message (SDMX-ML 2.1 by default on v1, SDMX-JSON 2.0 on v2, any
structure format on request) holding an Actual constraint (``service.usecases.availability``).
Every check runs before the answer: format 406, syntax 400, unknown artefact 404; a query that
matches no data answers as data queries do: v1 404 (SDMX error 100), v2 204 (sdmx-rest
``doc/status.md``). The ``ETag`` and ``Last-Modified`` follow the data set's last change (and
the structures'), so a conditional request is answered 304 before anything is summed up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.answers import ReadCaches, kept_response, serve_read
from service.api.auth import check_read_access, register_reads
from service.api.conditional import http_date
from service.api.structure import structure_media_type
from service.errors import NoResultsFound, NotImplementedYet, SdmxError
from service.formats.base import Header, Lang
from service.formats.media_types import STRUCTURE_WRITERS
from service.query.negotiation import negotiate_language
from service.query.structure import ApiVersion
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.usecases.availability import (
    AvailabilityQuery,
    availability,
    plan_availability,
)
from service.usecases.data import DataState, DataTarget, content_language

router = APIRouter(tags=["availability"])

#: v1 without a dataflow: the availability of every dataflow at once (501).
V1_ALL_FLOWS = "/rest/availableconstraint"
V1_PATHS = [
    "/rest/availableconstraint/{flow_ref}",
    "/rest/availableconstraint/{flow_ref}/{key}",
    "/rest/availableconstraint/{flow_ref}/{key}/{provider_ref}",
    "/rest/availableconstraint/{flow_ref}/{key}/{provider_ref}/{component_id}",
]
V2_PATHS = [
    "/rest/v2/availability/{context}",
    "/rest/v2/availability/{context}/{agency}",
    "/rest/v2/availability/{context}/{agency}/{resource_id}",
    "/rest/v2/availability/{context}/{agency}/{resource_id}/{version}",
    "/rest/v2/availability/{context}/{agency}/{resource_id}/{version}/{key}",
    "/rest/v2/availability/{context}/{agency}/{resource_id}/{version}/{key}/{component_id}",
]
_VARY = "Accept, Accept-Language"


def _etag(request: Request, media_type: str, lang: Lang, state: DataState, structures: str) -> str:
    """A weak tag: the same data, structures, query and format give the same content (the
    header's id and preparation time aside)."""
    query = sorted(request.query_params.multi_items())
    basis = (state.tag, structures, request.url.path, query, media_type, lang.preferred)
    return f'W/"{hashlib.sha256(repr(basis).encode()).hexdigest()[:32]}"'


def _headers(
    media_type: str,
    lang: Lang,
    etag: str,
    state: DataState,
    target: DataTarget,
    references: str | None,
) -> dict[str, str]:
    """``Content-Language`` names the language the answer's ``name`` fields are in: the
    Actual constraint is named in English only (``usecases.availability``); with
    ``references``, the first accepted language the dataflow's structures have, else
    English (as data answers, ``usecases.data.content_language``)."""
    headers = {"ETag": etag, "Vary": _VARY, "Cache-Control": "no-cache"}
    if "json" in media_type:
        referenced = any(v not in ("none", "valuelist") for v in (references or "none").split(","))
        headers["Content-Language"] = content_language(lang, target) if referenced else "en"
    if state.last_changed is not None and (date := http_date(state.last_changed)):
        headers["Last-Modified"] = date
    return headers


def _answer(
    request: Request,
    session: Session,
    api: ApiVersion,
) -> Response:
    """Negotiate, check, then sum up (or 304, a kept answer, or nothing available)."""
    settings: Settings = request.app.state.settings
    params = request.query_params
    media_type = structure_media_type(request, api)
    p = request.path_params
    query = AvailabilityQuery.parse(p.get("key"), p.get("component_id"), params.multi_items(), api)
    repo = StructureRepository(session)
    caches: ReadCaches = request.app.state.read_caches
    harvest = query.params.updated_after is not None
    target, structures, state = caches.target(repo, api, request, harvest=harvest)
    plan = plan_availability(target, query, api)
    lang, etag, headers = _validators(request, media_type, target, structures, state)
    if (known := caches.revalidated(request, state, etag, headers)) is not None:
        return known
    artefacts = availability(session, repo, plan, state, cap=settings.max_data_observations)
    if artefacts is None:
        if api is ApiVersion.V2:
            return Response(status_code=204, headers={"Vary": _VARY})
        raise NoResultsFound(f"no data for {plan.target.flow.label} match the query")
    header = Header(
        id=f"IREF{etag[3:19]}", prepared=dt.datetime.now(dt.UTC), sender=settings.sender_id
    )
    body = STRUCTURE_WRITERS[media_type].write_structures(artefacts, header=header, lang=lang)
    return kept_response(request, caches.kept(etag, media_type, body), headers)


def _validators(
    request: Request, media_type: str, target: DataTarget, structures: str, state: DataState
) -> tuple[Lang, str, dict[str, str]]:
    """The languages asked for, the answer's ETag and its headers."""
    lang = Lang(negotiate_language(request.headers.get("accept-language")) or ("en",))
    etag = _etag(request, media_type, lang, state, structures)
    references = request.query_params.get("references")
    return lang, etag, _headers(media_type, lang, etag, state, target, references)


def _serve(request: Request, api: ApiVersion) -> Awaitable[Response]:
    def tag_and_headers(
        target: DataTarget, structures: str, state: DataState
    ) -> tuple[str, dict[str, str]] | None:
        try:
            media_type = structure_media_type(request, api)
        except SdmxError:
            return None  # the session's answer reports it
        _, etag, headers = _validators(request, media_type, target, structures, state)
        return etag, headers

    return serve_read(request, api, tag_and_headers, lambda session: _answer(request, session, api))


async def v1_availability(request: Request) -> Response:
    """Path segments come from ``request.path_params``: the shorter paths lack the last ones."""
    return await _serve(request, ApiVersion.V1)


async def v2_availability(request: Request) -> Response:
    """Path segments come from ``request.path_params``: left out, agency, id and version are
    ``*``. sdmx-rest asks for a specific context; ``*`` (which sdmx1 sends) is taken as for
    data queries: the path must select exactly one artefact of any kind."""
    return await _serve(request, ApiVersion.V2)


async def v1_every_flow(request: Request) -> None:
    """v1 without a dataflow: availability is answered per dataflow."""
    await check_read_access(request)
    raise NotImplementedYet(
        "availability of every dataflow at once is not supported; name one: "
        "/rest/availableconstraint/{flowRef}"
    )


register_reads(
    router,
    "availability",
    [V1_ALL_FLOWS],
    v1_every_flow,
    "v1_all",
    "SDMX REST v1 availability of every dataflow",
)
register_reads(
    router,
    "availability",
    V2_PATHS,
    v2_availability,
    "v2",
    "SDMX REST v2 availability query (SDMX 3.0)",
)
register_reads(
    router,
    "availability",
    V1_PATHS,
    v1_availability,
    "v1",
    "SDMX REST v1 availability query (SDMX 2.1)",
)
