"""SDMX REST structure queries: v1 under ``/rest`` and v2 under ``/rest/v2/structure``."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.api.deps import SessionDep, SettingsDep
from service.api.notimplemented import V1_OTHER, not_implemented
from service.errors import NotImplementedYet
from service.formats.base import Lang
from service.formats.media_types import STRUCTURE_WRITERS
from service.model import Artefact
from service.model.types import structure_type
from service.query.negotiation import negotiate, negotiate_language
from service.query.structure import ApiVersion, StructureQuery, parse_v1, parse_v2
from service.storage.structures import StructureRepository
from service.usecases.rendering import Rendered, ResponseCache, render_structures
from service.usecases.structure import Selection

router = APIRouter(tags=["structure"])

_CACHES: dict[int, ResponseCache] = {}

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


def _cache(size: int) -> ResponseCache:
    return _CACHES.setdefault(size, ResponseCache(size))


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


def answer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: StructureQuery,
    api: ApiVersion,
) -> Response:
    media_type = negotiate(
        request.headers.get("accept"),
        request.query_params.get("format"),
        api,
        list(STRUCTURE_WRITERS),
    )
    lang = Lang(negotiate_language(request.headers.get("accept-language")) or ("en",))
    rendered = render_structures(
        StructureRepository(session),
        to_selection(query),
        request_key=(request.url.path, tuple(sorted(request.query_params.multi_items()))),
        media_type=media_type,
        lang=lang,
        sender=settings.sender_id,
        structure_url=_structure_url(request, api),
        cache=_cache(settings.response_cache_size),
    )
    return conditional_response(request, rendered)


def conditional_response(request: Request, rendered: Rendered) -> Response:
    """200 with the body, or 304 when the client's copy (ETag / date) is still current."""
    headers = {
        "ETag": rendered.etag,
        "Vary": "Accept, Accept-Language",
        "Cache-Control": "no-cache",
    }
    if "json" in rendered.media_type:
        headers["Content-Language"] = rendered.language
    if rendered.last_modified is not None:
        headers["Last-Modified"] = email.utils.format_datetime(rendered.last_modified, usegmt=True)
    if _not_modified(request, rendered):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)


def _not_modified(request: Request, rendered: Rendered) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or rendered.etag in tags
    since = request.headers.get("if-modified-since")
    if since and rendered.last_modified is not None:
        try:
            client_time = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return rendered.last_modified.replace(microsecond=0) <= client_time
    return False


# --- v2 ----------------------------------------------------------------------------------------

V2_PATHS = [
    "/rest/v2/structure/{structure_type}",
    "/rest/v2/structure/{structure_type}/{agency}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}",
    "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}/{item}",
]


def v2_structure(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    structure_type: str,
    agency: str | None = None,
    resource_id: str | None = None,
    version: str | None = None,
    item: str | None = None,
    references: References = None,
    detail: Detail = None,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    query = parse_v2(structure_type, agency, resource_id, version, item, request.query_params)
    if query.as_of is not None:
        raise NotImplementedYet("asOf on structure queries: structures keep no history yet")
    return answer(request, session, settings, query, ApiVersion.V2)


# --- v1 ----------------------------------------------------------------------------------------

V1_PATHS = [
    "/rest/{resource}",
    "/rest/{resource}/{agency}",
    "/rest/{resource}/{agency}/{resource_id}",
    "/rest/{resource}/{agency}/{resource_id}/{version}",
    "/rest/{resource}/{agency}/{resource_id}/{version}/{item}",
]


def v1_structure(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    resource: str,
    agency: str | None = None,
    resource_id: str | None = None,
    version: str | None = None,
    item: str | None = None,
    references: References = None,
    detail: Detail = None,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    if resource in V1_OTHER:
        raise not_implemented("v1", resource)
    query = parse_v1(resource, agency, resource_id, version, item, request.query_params)
    return answer(request, session, settings, query, ApiVersion.V1)


for _n, _path in enumerate(V2_PATHS):
    router.add_api_route(
        _path,
        v2_structure,
        methods=["GET", "HEAD"],
        operation_id=f"v2_structure_{_n}",
        summary="SDMX REST v2 structure query (SDMX 3.0)",
        response_class=Response,
    )
for _n, _path in enumerate(V1_PATHS):
    router.add_api_route(
        _path,
        v1_structure,
        methods=["GET", "HEAD"],
        operation_id=f"v1_structure_{_n}",
        summary="SDMX REST v1 structure query (SDMX 2.1)",
        response_class=Response,
    )
