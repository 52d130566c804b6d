"""Structure maintenance: POST, PUT and DELETE under ``/rest/v2/structure``, for admins only."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.auth import AdminDep
from service.api.deps import SettingsDep, get_session
from service.errors import PayloadTooLarge, QuerySyntaxError, UnsupportedMediaType
from service.formats.base import Header
from service.formats.writers.submit_structure_response import (
    MEDIA_TYPES,
    RegistryVersion,
    SubmissionResult,
    write_submit_structure_response,
)
from service.model import StructureType, artefact_class
from service.query.negotiation import STRUCTURE_SDMX_ML_2_1, STRUCTURE_SDMX_ML_3_0, MediaType
from service.query.structure import parse_v2
from service.settings import Settings
from service.storage.structures import ArtefactKey, StructureRepository, structure_type_of
from service.storage.tokens import Principal
from service.usecases.maintenance import Report, delete, read_submission, submit

router = APIRouter(tags=["structure maintenance"])
log = logging.getLogger("ilms.maintenance")

#: Function-scoped: committed when the route returns, before the client hears of the change
#: (a request-scoped session commits only after the response is sent).
WriteSessionDep = Annotated[Session, Depends(get_session, scope="function")]

#: The largest structure message accepted, in bytes.
BODY_LIMIT = 64 * 1024 * 1024
ARTEFACT_PATH = "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}"

_STRUCTURE_ML = (MediaType.parse(STRUCTURE_SDMX_ML_2_1), MediaType.parse(STRUCTURE_SDMX_ML_3_0))
#: Generic XML: the message's namespace tells SDMX-ML 2.1 from 3.0.
_GENERIC_XML = frozenset({"application/xml", "text/xml"})
#: What ``Accept`` may ask for, with an explicit ``version=``.
_RESPONSE_CHOICES: tuple[tuple[MediaType, RegistryVersion], ...] = (
    (MediaType.parse(MEDIA_TYPES["2.1"]), "2.1"),
    (MediaType.parse(MEDIA_TYPES["3.0"]), "3.0"),
    (MediaType.parse(STRUCTURE_SDMX_ML_2_1), "2.1"),
    (MediaType.parse(STRUCTURE_SDMX_ML_3_0), "3.0"),
)
_XML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string"}}
            for t in (STRUCTURE_SDMX_ML_2_1, STRUCTURE_SDMX_ML_3_0, "application/xml")
        },
    }
}


def _is_structure_xml(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in _GENERIC_XML or any(t.matches(content_type) for t in _STRUCTURE_ML)


async def structure_message(request: Request) -> bytes:
    """The body of a POST or PUT: an SDMX-ML structure message (415 for other media types)."""
    content_type = request.headers.get("content-type", "")
    if not _is_structure_xml(content_type):
        raise UnsupportedMediaType(
            f"Content-Type {content_type or '(none)'!r} is not an SDMX-ML structure message; "
            f"send {STRUCTURE_SDMX_ML_2_1}, {STRUCTURE_SDMX_ML_3_0} or application/xml"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_LIMIT:
            raise PayloadTooLarge(f"the body is over the {BODY_LIMIT:,}-byte limit")
    return bytes(body)


StructureMessage = Annotated[bytes, Depends(structure_message)]


def path_key(structure_type: str, agency: str, resource_id: str, version: str) -> ArtefactKey:
    """The one artefact a PUT or DELETE path names (no wildcards, lists or ``~``)."""
    query = parse_v2(structure_type, agency, resource_id, version, None, {})
    exact = query.version.exact_versions
    parts = (query.types, query.agencies or (), query.ids or (), exact or ())
    if any(len(part) != 1 for part in parts):
        raise QuerySyntaxError(
            "PUT and DELETE name one artefact: /structure/{type}/{agency}/{id}/{version}, "
            "without wildcards or lists"
        )
    return (query.types[0], parts[1][0], parts[2][0], parts[3][0])


def _only_type(structure_type: str) -> StructureType | None:
    """The type ``POST /structure/{type}`` accepts (None for ``*``)."""
    types = parse_v2(structure_type, None, None, None, None, {}).types
    return types[0] if len(types) == 1 else None


def _q(entry: str) -> float:
    for param in entry.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def response_version(accept: str | None, default: RegistryVersion) -> RegistryVersion:
    """The SDMX-ML version Accept asks for (``version=`` given), else ``default``.

    The doc: the response follows Accept, "or the default, if the Accept type is not supported".
    """
    entries = [e for e in (accept or "").split(",") if "version=" in e.lower() and _q(e) > 0]
    for entry in sorted(entries, key=_q, reverse=True):
        for media_type, version in _RESPONSE_CHOICES:
            if media_type.matches(entry):
                return version
    return default


def _location(request: Request, result: SubmissionResult) -> str:
    kind = structure_type_of(artefact_class(result.sdmx_class)).value
    kind = "dataconstraint" if kind == "contentconstraint" else kind
    base = str(request.base_url).rstrip("/")
    return f"{base}/rest/v2/structure/{kind}/{result.agency}/{result.id}/{result.version}"


def _audit(principal: Principal, report: Report) -> None:
    """One log line per write attempt: which token, what became of which artefact."""
    results = [f"{r.code} {r.action} {r.agency}:{r.id}({r.version})" for r in report.results]
    log.info(
        "structure maintenance",
        extra={"token_pk": principal.token_pk, "status": report.status, "results": results},
    )


def respond(
    request: Request,
    settings: Settings,
    principal: Principal,
    report: Report,
    default: RegistryVersion,
) -> Response:
    """The SubmitStructureResponse, with the status the doc gives (and ``Location`` on 201)."""
    version = response_version(request.headers.get("accept"), default)
    header = Header(
        id=f"IREF{uuid.uuid4().hex[:12]}",
        prepared=dt.datetime.now(dt.UTC),
        sender=settings.sender_id,
    )
    body = write_submit_structure_response(report.results, version=version, header=header)
    headers = {"Vary": "Accept"}
    if report.status == 201:
        headers["Location"] = _location(request, report.created[0])
    _audit(principal, report)
    return Response(
        body, status_code=report.status, headers=headers, media_type=MEDIA_TYPES[version]
    )


@router.post(
    "/rest/v2/structure",
    response_class=Response,
    openapi_extra=_XML_BODY,
    summary="Create or replace the artefacts of an SDMX-ML structure message (all or nothing)",
)
def post_structures(
    request: Request,
    principal: AdminDep,
    body: StructureMessage,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    submission = read_submission(body)
    report = submit(StructureRepository(session), submission.artefacts)
    return respond(request, settings, principal, report, submission.version)


@router.post(
    "/rest/v2/structure/{structure_type}",
    response_class=Response,
    openapi_extra=_XML_BODY,
    summary="Create or replace artefacts of one type (all or nothing)",
)
def post_typed_structures(
    structure_type: str,
    request: Request,
    principal: AdminDep,
    body: StructureMessage,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    only = _only_type(structure_type)
    submission = read_submission(body)
    report = submit(StructureRepository(session), submission.artefacts, only=only)
    return respond(request, settings, principal, report, submission.version)


@router.put(
    ARTEFACT_PATH,
    response_class=Response,
    openapi_extra=_XML_BODY,
    summary="Replace one stored artefact",
)
def put_structure(
    structure_type: str,
    agency: str,
    resource_id: str,
    version: str,
    request: Request,
    principal: AdminDep,
    body: StructureMessage,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    target = path_key(structure_type, agency, resource_id, version)
    submission = read_submission(body)
    report = submit(StructureRepository(session), submission.artefacts, target=target)
    return respond(request, settings, principal, report, submission.version)


@router.delete(ARTEFACT_PATH, response_class=Response, summary="Delete one artefact")
def delete_structure(
    structure_type: str,
    agency: str,
    resource_id: str,
    version: str,
    request: Request,
    principal: AdminDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    report = delete(
        StructureRepository(session), path_key(structure_type, agency, resource_id, version)
    )
    return respond(request, settings, principal, report, "2.1")
