"""SDMX REST data queries: current data filtered by key, as SDMX-CSV 2.0 (the default),
SDMX-ML 2.1 structure-specific or SDMX-JSON 2.0."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from service.api.auth import reader_access
from service.api.deps import SessionDep
from service.errors import NotAcceptable, NotImplementedYet
from service.query.data import parse_flow_ref, parse_key
from service.query.structure import ApiVersion
from service.storage.structures import StructureRepository
from service.usecases.data import (
    CSV,
    DATA_FORMATS,
    JSON,
    STRUCTURE_SPECIFIC,
    DataFormat,
    query_data,
)
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
#: ``format=`` values (lower case) naming each data format.
_FORMAT_NAMES: dict[str, DataFormat] = {
    **dict.fromkeys(("csv", "sdmx-csv", "csvfile", CSV.media_type), CSV),
    **dict.fromkeys(
        ("structurespecificdata", "xml", STRUCTURE_SPECIFIC.media_type), STRUCTURE_SPECIFIC
    ),
    **dict.fromkeys(("jsondata", "json", JSON.media_type), JSON),
}
#: Accept media ranges (without parameters) each format matches, and the versions it is.
_RANGES: dict[str, tuple[DataFormat, tuple[str, ...]]] = {
    "application/vnd.sdmx.data+csv": (CSV, ("2.0", "2.0.0")),
    "text/csv": (CSV, ()),
    "application/vnd.sdmx.structurespecificdata+xml": (STRUCTURE_SPECIFIC, ("2.1",)),
    "application/vnd.sdmx.data+json": (JSON, ("2.0", "2.0.0")),
    "application/json": (JSON, ()),
}
_NAMES = "SDMX-CSV 2.0 (csv), SDMX-ML 2.1 structure-specific (xml) or SDMX-JSON 2.0 (json)"

Format = Annotated[
    str | None,
    Query(description="csv (SDMX-CSV 2.0), structurespecificdata or xml, jsondata or json"),
]


def _check(request: Request, params: Mapping[str, str]) -> DataFormat:
    """The format to answer in; 501 for parameters not implemented yet, 406 for formats."""
    asked = [p for p in NOT_YET if p in params] + [p for p in params if p.startswith("c[")]
    if asked:
        raise NotImplementedYet(
            f"data query parameter {asked[0]} is not implemented yet; this increment of "
            "the data API answers current data by key"
        )
    fmt = params.get("format")
    if fmt is not None:
        found = _FORMAT_NAMES.get(fmt.lower())
        if found is None:
            raise NotAcceptable(f"format={fmt}: data are only available as {_NAMES}")
        return found
    accept = request.headers.get("accept")
    if not accept:
        return CSV
    chosen = _negotiate(accept)
    if chosen is None:
        raise NotAcceptable(f"Accept: {accept}: data are only available as {_NAMES}")
    return chosen


def _negotiate(accept: str) -> DataFormat | None:
    """The format ``accept`` prefers (highest q; the most specific range of each format
    decides its q; ties go to the earlier of DATA_FORMATS); None when it allows none."""
    best: dict[int, tuple[int, float]] = {}  # format index: (specificity, q)
    for part in accept.lower().split(","):
        media, *raw = (p.strip() for p in part.split(";"))
        params = dict(p.partition("=")[::2] for p in raw)
        try:
            q = float(params.pop("q", "1") or "1")
        except ValueError:
            q = 0.0
        for index, fmt in enumerate(DATA_FORMATS):
            specificity = _specificity(media, params.get("version"), fmt)
            if specificity and specificity >= best.get(index, (0, 0.0))[0]:
                known = best.get(index)
                if known is None or specificity > known[0] or q > known[1]:
                    best[index] = (specificity, q)
    ranked = sorted((-q, index) for index, (_, q) in best.items() if q > 0)
    return DATA_FORMATS[ranked[0][1]] if ranked else None


def _specificity(media: str, version: str | None, fmt: DataFormat) -> int:
    """How specifically ``media`` (with ``version``) names ``fmt``: 0 not at all."""
    if media == "*/*":
        return 1
    if media == "application/*" or (media == "text/*" and fmt is CSV):
        return 2
    found = _RANGES.get(media)
    if found is None or found[0] is not fmt:
        return 0
    if version is None:
        return 3
    return 4 if version.strip('"') in found[1] else 0


def _answer(
    request: Request,
    session: SessionDep,
    flow: FlowContext,
    key: str | None,
    api: ApiVersion,
    fmt: DataFormat,
) -> Response:
    filters = parse_key(key, [d.id for d in flow.dsd.key_dimensions], api)
    answer = query_data(session, flow, filters, str(request.url), fmt)
    headers = {
        "ETag": answer.etag,
        "Vary": "Accept, Accept-Language",
        "Content-Disposition": f'attachment; filename="{answer.filename}"',
    }
    if answer.last_modified is not None:
        headers["Last-Modified"] = email.utils.format_datetime(answer.last_modified, usegmt=True)
    if request.headers.get("if-none-match") == answer.etag:
        return Response(status_code=304, headers=headers)
    return StreamingResponse(answer.chunks, media_type=fmt.media_type, headers=headers)


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
    fmt = _check(request, request.query_params)
    key = request.path_params.get("key")
    repo = StructureRepository(session)
    if context == "dataflow":
        flow = resolve_flow(repo, agency, resource_id, version)
    elif context == "datastructure":
        flow = resolve_structure(repo, agency, resource_id, version)
    else:
        raise NotImplementedYet(f"data queries by {context} are not implemented yet")
    return _answer(request, session, flow, key, ApiVersion.V2, fmt)


@router.get("/rest/data/{flow_ref}", summary="Data (v1)")
@router.get("/rest/data/{flow_ref}/{key}", summary="Data (v1)")
def v1_data(
    request: Request,
    session: SessionDep,
    flow_ref: str,
    format: Format = None,  # noqa: A002 - the SDMX parameter name
) -> Response:
    """``key`` comes from ``request.path_params``: the shorter path has none (not a query)."""
    fmt = _check(request, request.query_params)
    key = request.path_params.get("key")
    agency, flow_id, version = parse_flow_ref(flow_ref)
    flow = resolve_flow(StructureRepository(session), agency, flow_id, version)
    return _answer(request, session, flow, key, ApiVersion.V1, fmt)
