"""Data upload (``POST /rest/v2/data/dataflow/...``) and submission records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import tempfile
import zlib
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from service.api.auth import WriterDep
from service.api.deps import SessionDep, SettingsDep
from service.errors import (
    Forbidden,
    NoResultsFound,
    PayloadTooLarge,
    QuerySyntaxError,
    UnreadableBody,
)
from service.storage.submissions import MAX_OFFSET, SubmissionRepository, as_dict
from service.storage.tables import as_utc
from service.storage.tokens import Principal
from service.usecases.ingest import Outcome, Upload, ingest, record_refusal

router = APIRouter(tags=["data upload"])

_SPOOL_IN_MEMORY = 8 * 1024 * 1024


@dataclass
class SpooledBody:
    file: BinaryIO
    sha256: str
    size: int


async def spool(request: Request, limit: int) -> SpooledBody:
    """The request body in a temporary file (gunzipped), its SHA-256 and size; 413 past limit.

    The limit applies to the decoded bytes, so a small gzip bomb is refused like a big body.
    """
    encoding = (request.headers.get("content-encoding") or "identity").lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise UnreadableBody(f"Content-Encoding {encoding!r} is not supported; use gzip")
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in request.stream():
            data = _gunzip(gunzip, chunk) if gunzip is not None else chunk
            size += len(data)
            if size > limit:
                raise PayloadTooLarge(f"the body is over the {limit:,}-byte upload limit")
            digest.update(data)
            out.write(data)
        if gunzip is not None and not gunzip.eof:
            raise UnreadableBody("the gzip body is truncated")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return SpooledBody(out, digest.hexdigest(), size)  # type: ignore[arg-type]


def _gunzip(gunzip: Any, chunk: bytes) -> bytes:
    try:
        return bytes(gunzip.decompress(chunk))
    except zlib.error as exc:
        raise UnreadableBody(f"the body is not valid gzip: {exc}") from exc


def outcome_response(outcome: Outcome) -> JSONResponse:
    body: dict[str, Any] = {"submission": outcome.as_dict()}
    if outcome.status == "accepted":
        return JSONResponse(body, status_code=201, headers=_location(outcome))
    if outcome.status == "dry_run":
        return JSONResponse(body, status_code=200)
    error = outcome.error
    code, status, title = (
        (error.code, error.http_status, error.title)
        if error is not None
        else (150, 422, "Invalid data message")
    )
    report = outcome.report
    detail = error.detail if error is not None else _summary(report.total, report.counts)
    body["errors"] = [{"code": code, "title": title, "detail": detail}]
    return JSONResponse(body, status_code=status, headers=_location(outcome))


def _summary(total: int, counts: dict[str, int]) -> str:
    rules = ", ".join(f"{rule} ({n})" for rule, n in sorted(counts.items()))
    return f"{total} problem{'s' if total != 1 else ''}; nothing was written: {rules}"


def _location(outcome: Outcome) -> dict[str, str]:
    if outcome.submission_id is None:
        return {}
    return {"Location": f"/rest/v2/submissions/{outcome.submission_id}"}


UPLOAD_CONTEXTS = ("dataflow", "datastructure")


@router.post(
    "/rest/v2/data/{context}/{agency}/{resource_id}/{version}",
    summary="Upload data for a dataflow or data structure (SDMX-ML, SDMX-CSV or SDMX-JSON)",
    status_code=201,
)
async def upload(
    request: Request,
    context: str,
    agency: str,
    resource_id: str,
    version: str,
    principal: WriterDep,
    settings: SettingsDep,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> JSONResponse:
    if context not in UPLOAD_CONTEXTS:
        raise QuerySyntaxError(
            f"uploads go to one of {', '.join(UPLOAD_CONTEXTS)}, not {context!r}"
        )
    meta = _upload(request, context, agency, resource_id, version, principal, dry_run)
    factory = request.app.state.sessionmaker
    try:
        body = await spool(request, settings.max_upload_bytes)
    except (PayloadTooLarge, UnreadableBody) as exc:
        await run_in_threadpool(record_refusal, factory, meta, exc)
        raise
    try:
        job = dataclasses.replace(
            meta, body=body.file, content_sha256=body.sha256, size_bytes=body.size
        )
        outcome = await run_in_threadpool(ingest, factory, job)
    finally:
        body.file.close()
    return outcome_response(outcome)


def _upload(
    request: Request,
    context: str,
    agency: str,
    flow_id: str,
    version: str,
    principal: Principal,
    dry_run: bool,
) -> Upload:
    """The upload's description; its body, hash and size are filled in once it is read."""
    return Upload(
        context=context,
        agency=agency,
        flow_id=flow_id,
        version=version,
        body=io.BytesIO(),
        media_type=request.headers.get("content-type", ""),
        content_sha256="",
        size_bytes=int(request.headers.get("content-length") or 0),
        provider=None if principal.is_admin else principal.provider,
        token_pk=principal.token_pk,
        dry_run=dry_run,
    )


@router.get("/rest/v2/submissions/{submission_id}", summary="One submission record")
def submission(submission_id: int, session: SessionDep, principal: WriterDep) -> dict[str, Any]:
    row = SubmissionRepository(session).get(submission_id)
    if row is None:
        raise NoResultsFound(f"no submission {submission_id}")
    if not principal.is_admin and row.provider != principal.provider:
        raise Forbidden(f"submission {submission_id} was not made by {principal.name}")
    return as_dict(row)


@router.get("/rest/v2/submissions", summary="Submission records, newest first")
def submissions(
    session: SessionDep,
    principal: WriterDep,
    provider: str | None = None,
    dataflow: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    if not principal.is_admin:
        if provider not in (None, principal.provider):
            raise Forbidden(f"a provider token sees only its own submissions ({principal.name})")
        provider = principal.provider
    since, until = as_utc(since), as_utc(until)  # an instant without offset is UTC
    if since is not None and until is not None and since >= until:
        raise QuerySyntaxError("since must be before until")
    rows = SubmissionRepository(session).search(
        provider=provider,
        dataflow=dataflow,
        since=since,
        until=until,
        status=status,
        limit=limit,
        offset=offset,
    )
    return {"submissions": [as_dict(r) for r in rows], "limit": limit, "offset": offset}
