"""SDMX REST structure queries: v1 under ``/rest`` and v2 under ``/rest/v2/structure``."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.auth import check_read_access, register_reads
from service.api.conditional import http_date, not_modified
from service.api.deps import in_session
from service.api.encoding import accepts_gzip
from service.api.notimplemented import (
    V1_OTHER,
    V1_TEMPLATES,
    no_such_path,
    not_implemented,
    v2_error,
)
from service.errors import NotImplementedYet
from service.formats.base import Lang
from service.formats.media_types import STRUCTURE_WRITERS
from service.model import Artefact
from service.model.types import structure_type
from service.query.negotiation import negotiate, negotiate_language
from service.query.structure import ApiVersion, StructureQuery, parse_v1, parse_v2
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.usecases.rendering import Rendered, ResponseCache, render_structures
from service.usecases.structure import Selection

router = APIRouter(tags=["structure"])

_CACHES: dict[int, ResponseCache[Hashable, Rendered]] = {}

References = Annotated[
    str | None,
    Query(
        description="Referenced or referencing artefacts to return as well (none, parents, "
        "parentsandsiblings, children, descendants, all, or a structure type)"
    ),
]
Detail = Annotated[
    str | None,
    Query(
        description="full, allstubs, referencestubs, allcompletestubs, "
        "referencecompletestubs or referencepartial"
    ),
]
Format = Annotated[
    str | None,
    Query(description="Overrides Accept: a media type, or sdmx-ml, sdmx-json…"),
]


def to_selection(query: StructureQuery) -> Selection:
    return Selection(
        types=query.types,
        agencies=query.agencies,
        ids=query.ids,
        versions=query.version,
        items=query.items,
        references=query.references,
        detail=query.detail,
    )


def _structure_url(request: Request, api: ApiVersion) -> Callable[[Artefact], str]:
    base = str(request.base_url).rstrip("/")

    def url(artefact: Artefact) -> str:
        kind = structure_type(artefact).value
        ref = f"{artefact.agency}/{artefact.id}/{artefact.version}"
        if api is ApiVersion.V2:
            kind = "dataconstraint" if kind == "contentconstraint" else kind
            return f"{base}/rest/v2/structure/{kind}/{ref}"
        return f"{base}/rest/{kind}/{ref}"

    return url


async def answer(request: Request, query: StructureQuery, api: ApiVersion) -> Response:
    """The structures a query selects, read in one trip to the thread pool (``in_session``)."""
    return await in_session(request, lambda session: _answer(request, session, query, api))


def _answer(request: Request, session: Session, query: StructureQuery, api: ApiVersion) -> Response:
    settings: Settings = request.app.state.settings
    rendered = render_structures(
        StructureRepository(session),
        to_selection(query),
        request_key=request_key(request),
        media_type=structure_media_type(request, api),
        lang=Lang(negotiate_language(request.headers.get("accept-language")) or ("en",)),
        sender=settings.sender_id,
        structure_url=_structure_url(request, api),
        cache=structure_cache(settings),
        gzip_minimum_size=settings.gzip_minimum_size,
    )
    return conditional_response(request, rendered)


def structure_media_type(request: Request, api: ApiVersion) -> str:
    """The structure format ``Accept`` or ``format`` asks for (NotAcceptable: none)."""
    return negotiate(
        request.headers.get("accept"),
        request.query_params.get("format"),
        api,
        list(STRUCTURE_WRITERS),
        fmt_version=request.query_params.get("formatVersion"),
    )


def request_key(request: Request) -> Hashable:
    """What names a structure answer besides the store, the format and the language."""
    return (request.url.path, tuple(sorted(request.query_params.multi_items())))


def structure_cache(settings: Settings) -> ResponseCache[Hashable, Rendered]:
    """Rendered structure messages (structure and schema queries), per worker."""
    return _CACHES.setdefault(
        settings.response_cache_size, ResponseCache(settings.response_cache_size)
    )


def conditional_response(request: Request, rendered: Rendered) -> Response:
    """200 with the body, or 304 when the client's copy (ETag / date) is still current."""
    headers = {
        "ETag": rendered.etag,
        "Vary": "Accept, Accept-Language",
        "Cache-Control": "no-cache",
    }
    if "json" in rendered.media_type:
        headers["Content-Language"] = rendered.language
    if rendered.last_modified is not None and (date := http_date(rendered.last_modified)):
        headers["Last-Modified"] = date
    if not_modified(request, rendered.etag, rendered.last_modified):
        return Response(status_code=304, headers=headers)
    if rendered.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] += ", Accept-Encoding"
        return Response(rendered.gzipped, media_type=rendered.media_type, headers=headers)
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)


# --- v2 ----------------------------------------------------------------------------------------

V2_PATHS = [
    "/rest/v2/structure/{structure_type}",
    "/rest/v2/structure/{structure_type}/{agency}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}/{item}",
]


async def v2_structure(
    request: Request,
    references: References = None,
    detail: Detail = None,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """Path segments come from ``request.path_params``: the shorter paths lack the last ones."""
    await check_read_access(request)
    p = request.path_params
    query = parse_v2(
        p["structure_type"],
        p.get("agency"),
        p.get("resource_id"),
        p.get("version"),
        p.get("item"),
        request.query_params,
    )
    if query.as_of is not None:
        raise NotImplementedYet("asOf on structure queries: structures keep no history yet")
    return await answer(request, query, ApiVersion.V2)


# --- v1 ----------------------------------------------------------------------------------------

V1_PATHS = [
    "/rest/{resource}",
    "/rest/{resource}/{agency}",
    "/rest/{resource}/{agency}/{resource_id}",
    "/rest/{resource}/{agency}/{resource_id}/{version}",
    "/rest/{resource}/{agency}/{resource_id}/{version}/{item}",
]


async def v1_structure(
    request: Request,
    references: References = None,
    detail: Detail = None,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """Path segments come from ``request.path_params``: the shorter paths lack the last ones."""
    await check_read_access(request)
    p = request.path_params
    resource = p["resource"]
    if resource in V1_OTHER:
        raise not_implemented("v1", resource)
    if resource == "v2":  # a short /rest/v2/... path that no v2 route matched
        raise v2_error(request.url.path.removeprefix("/rest/v2/"), request.url.path)
    if resource.lower() in V1_TEMPLATES:  # a data or availability path no route matched
        raise no_such_path(request.url.path, "v1", resource)
    query = parse_v1(
        resource,
        p.get("agency"),
        p.get("resource_id"),
        p.get("version"),
        p.get("item"),
        request.query_params,
    )
    return await answer(request, query, ApiVersion.V1)


register_reads(
    router, "structure", V2_PATHS, v2_structure, "v2", "SDMX REST v2 structure query (SDMX 3.0)"
)
register_reads(
    router, "structure", V1_PATHS, v1_structure, "v1", "SDMX REST v1 structure query (SDMX 2.1)"
)
