"""Every error leaves as an SDMX error message with the standard code and HTTP status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.api.errors import render_error
from service.errors import (
    MethodNotAllowed,
    NoResultsFound,
    NotImplementedYet,
    QuerySyntaxError,
    SdmxError,
    ServiceUnavailable,
)

log = logging.getLogger("ilms.errors")

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def error_response(request: Request, error: SdmxError) -> Response:
    body, media_type = render_error(
        error,
        request.url.path,
        request.headers.get("accept"),
        request.query_params.get("format"),
        request.app.state.settings.sender_id,
    )
    headers = {"Vary": "Accept, Accept-Language"}
    if error.http_status == 405:
        headers["Allow"] = allowed_methods(request)
    if error.http_status == 401:
        headers["WWW-Authenticate"] = challenge(request)
    return Response(body, status_code=error.http_status, media_type=media_type, headers=headers)


def challenge(request: Request) -> str:
    """The ``WWW-Authenticate`` a 401 must carry (RFC 9110 15.5.2): Bearer tokens, and when one
    was sent, that it was not valid (RFC 6750 3.1)."""
    found = 'Bearer realm="ilms-sdmx"'
    if request.headers.get("authorization"):
        found += ', error="invalid_token"'
    return found


def allowed_methods(request: Request) -> str:
    """The methods some route of the app answers on the request's path (``Allow`` on 405).

    Asks every route of ``request.app.routes`` (included routers answer for theirs) whether it
    fully matches the path with each method.
    """
    routes = request.app.routes
    return ", ".join(
        method
        for method in HTTP_METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


async def _sdmx_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SdmxError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
    )
    return error_response(request, QuerySyntaxError(problems or "invalid request"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: SdmxError
    if exc.status_code == 404:
        error = NoResultsFound(f"no resource at {request.url.path}; see /docs for the API")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif exc.status_code == 501:
        error = NotImplementedYet(str(exc.detail))
    else:
        error = QuerySyntaxError(str(exc.detail))
    return error_response(request, error)


async def _store_error(request: Request, exc: Exception) -> Response:
    log.error("store error: %s", exc)
    return error_response(
        request, ServiceUnavailable("the data store is unavailable; try again shortly")
    )


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, _store_error)
    app.add_exception_handler(SdmxError, _sdmx_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
