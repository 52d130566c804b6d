"""SDMX REST v2 data validity (schema) queries: ``/rest/v2/schema/{context}/{agency}/{id}/...``.

The answer is a structure message (see ``service.usecases.schema``), in the structure formats
(negotiated as for v2 structure queries), with the same ETag / 304 / gzip handling. The v1
``/rest/schema`` resource (SDMX 2.1: XML Schemas) stays 501 (``service.api.notimplemented``).

This router must be included before ``service.api.structure``'s, whose v1 routes would
otherwise take ``/rest/v2/schema/{context}/{agency}/{id}`` as a v1 query.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.auth import check_read_access, register_reads
from service.api.deps import in_session
from service.api.structure import (
    Format,
    conditional_response,
    request_key,
    structure_cache,
    structure_media_type,
)
from service.errors import NoResultsFound
from service.formats.base import Lang
from service.query.negotiation import negotiate_language
from service.query.structure import ApiVersion
from service.settings import Settings
from service.storage.structures import StructureRepository
from service.usecases.rendering import render
from service.usecases.schema import SchemaQuery, parse_schema_query, schema_artefacts

router = APIRouter(tags=["schema"])

PATHS = [
    "/rest/v2/schema/{context}/{agency}/{resource_id}",
    "/rest/v2/schema/{context}/{agency}/{resource_id}/{version}",
]

DimensionAtObservation = Annotated[
    str | None,
    Query(
        alias="dimensionAtObservation",
        description="The dimension at the observation level (default: the time dimension)",
    ),
]
ExplicitMeasure = Annotated[
    str | None,
    Query(alias="explicitMeasure", description="true or false (default false)"),
]
Deletion = Annotated[
    str | None,
    Query(description="true: the schema validates deletion messages (attributes optional)"),
]
AsOf = Annotated[
    str | None, Query(alias="asOf", description="Not implemented: structures keep no history")
]


async def v2_schema(
    request: Request,
    dimension_at_observation: DimensionAtObservation = None,
    explicit_measure: ExplicitMeasure = None,
    deletion: Deletion = None,
    as_of: AsOf = None,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """Path segments come from ``request.path_params``: the shorter path lacks the version."""
    await check_read_access(request)
    p = request.path_params
    query = parse_schema_query(
        p["context"],
        p["agency"],
        p["resource_id"],
        p.get("version"),
        request.query_params.multi_items(),
    )
    return await in_session(request, lambda session: _answer(request, session, query))


def _answer(request: Request, session: Session, query: SchemaQuery) -> Response:
    settings: Settings = request.app.state.settings
    repo = StructureRepository(session)
    rendered = render(
        repo,
        lambda: schema_artefacts(repo, query),
        request_key=request_key(request),
        media_type=structure_media_type(request, ApiVersion.V2),
        lang=Lang(negotiate_language(request.headers.get("accept-language")) or ("en",)),
        sender=settings.sender_id,
        cache=structure_cache(settings),
        gzip_minimum_size=settings.gzip_minimum_size,
    )
    return conditional_response(request, rendered)


register_reads(
    router, "schema", PATHS, v2_schema, "v2", "SDMX REST v2 data validity (schema) query"
)


@router.api_route("/rest/v2/schema", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/rest/v2/schema/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def v2_schema_other(request: Request) -> None:
    """A schema path of the wrong length: 404, with the form that works."""
    raise NoResultsFound(
        f"no resource at {request.url.path}; SDMX REST v2 schema queries look like "
        "/rest/v2/schema/{context}/{agency}/{id}/{version}"
    )
