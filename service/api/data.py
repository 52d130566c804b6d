"""SDMX REST data queries (first increment): current data in SDMX-CSV 2.0, filtered by key."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from service.api.auth import reader_access
from service.api.deps import SessionDep
from service.errors import NotAcceptable, NotImplementedYet
from service.formats.writers.sdmx_csv_20_data import MEDIA_TYPE
from service.query.data import parse_flow_ref, parse_key
from service.query.structure import ApiVersion
from service.storage.structures import StructureRepository
from service.usecases.data import query_csv
from service.usecases.flows import FlowContext, resolve_flow, resolve_structure

router = APIRouter(tags=["data"], dependencies=[Depends(reader_access)])

#: Standard data query parameters this increment does not implement yet: 501, not ignored.
NOT_YET = (
    "startPeriod",
    "endPeriod",
    "updatedAfter",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "detail",
    "includeHistory",
    "asOf",
    "attributes",
    "measures",
    "offset",
    "limit",
    "sort",
)
_CSV_FORMATS = ("csv", "sdmx-csv", "csvfile", MEDIA_TYPE)

Format = Annotated[str | None, Query(description="csv (SDMX-CSV 2.0), the only one so far")]


def _check(request: Request, params: Mapping[str, str]) -> None:
    asked = [p for p in NOT_YET if p in params] + [p for p in params if p.startswith("c[")]
    if asked:
        raise NotImplementedYet(
            f"data query parameter {asked[0]} is not implemented yet; this first increment of "
            "the data API answers current data by key, in SDMX-CSV 2.0"
        )
    fmt = params.get("format")
    if fmt is not None and fmt.lower() not in _CSV_FORMATS:
        raise NotAcceptable(f"format={fmt}: data are only available as SDMX-CSV 2.0 (format=csv)")
    accept = request.headers.get("accept")
    if fmt is None and accept and not _accepts_csv(accept):
        raise NotAcceptable(f"Accept: {accept}: data are only available as {MEDIA_TYPE} so far")


def _accepts_csv(accept: str) -> bool:
    for part in accept.lower().split(","):
        media, _, params = part.strip().partition(";")
        if "q=0" in params.replace(" ", "") and "q=0." not in params.replace(" ", ""):
            continue
        if media in ("*/*", "text/*", "text/csv", "application/*"):
            return True
        if media == "application/vnd.sdmx.data+csv" and (
            "version" not in params or "2.0" in params
        ):
            return True
    return False


def _answer(
    request: Request, session: SessionDep, flow: FlowContext, key: str | None, api: ApiVersion
) -> Response:
    filters = parse_key(key, [d.id for d in flow.dsd.key_dimensions], api)
    answer = query_csv(session, flow, filters, str(request.url))
    headers = {
        "ETag": answer.etag,
        "Vary": "Accept, Accept-Language",
        "Content-Disposition": f'attachment; filename="{answer.filename}"',
    }
    if answer.last_modified is not None:
        headers["Last-Modified"] = email.utils.format_datetime(answer.last_modified, usegmt=True)
    if request.headers.get("if-none-match") == answer.etag:
        return Response(status_code=304, headers=headers)
    return StreamingResponse(answer.chunks, media_type=MEDIA_TYPE, headers=headers)


@router.get("/rest/v2/data/{context}/{agency}/{resource_id}/{version}", summary="Data (v2)")
@router.get("/rest/v2/data/{context}/{agency}/{resource_id}/{version}/{key}", summary="Data (v2)")
def v2_data(
    request: Request,
    session: SessionDep,
    context: str,
    agency: str,
    resource_id: str,
    version: str,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """``key`` comes from ``request.path_params``: the shorter path has none (not a query)."""
    _check(request, request.query_params)
    key = request.path_params.get("key")
    repo = StructureRepository(session)
    if context == "dataflow":
        flow = resolve_flow(repo, agency, resource_id, version)
    elif context == "datastructure":
        flow = resolve_structure(repo, agency, resource_id, version)
    else:
        raise NotImplementedYet(f"data queries by {context} are not implemented yet")
    return _answer(request, session, flow, key, ApiVersion.V2)


@router.get("/rest/data/{flow_ref}", summary="Data (v1)")
@router.get("/rest/data/{flow_ref}/{key}", summary="Data (v1)")
def v1_data(
    request: Request,
    session: SessionDep,
    flow_ref: str,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """``key`` comes from ``request.path_params``: the shorter path has none (not a query)."""
    _check(request, request.query_params)
    key = request.path_params.get("key")
    agency, flow_id, version = parse_flow_ref(flow_ref)
    flow = resolve_flow(StructureRepository(session), agency, flow_id, version)
    return _answer(request, session, flow, key, ApiVersion.V1)
