"""Who may write: ``Authorization: Bearer <token>`` resolved to a provider or an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from service.api.deps import SessionDep, in_session
from service.errors import Forbidden, Unauthorized
from service.settings import Settings
from service.storage.tokens import Principal, TokenRepository


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def current_principal(request: Request, session: SessionDep) -> Principal:
    """The writer behind the request's token: 401 without a valid one."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("this needs a token: send 'Authorization: Bearer <token>'")
    principal = TokenRepository(session).authenticate(token)
    if principal is None:
        raise Unauthorized("the token is unknown or has been revoked")
    return principal


def require_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden(f"only an admin token may do this; this token acts for {principal.name}")
    return principal


async def check_read_access(request: Request) -> None:
    """Reads are public unless ILMS_PUBLIC_READS=false; then any valid token may read. Called
    first by every read endpoint: a plain call costs public reads nothing, where a FastAPI
    dependency costs its solving on every request."""
    settings: Settings = request.app.state.settings
    if not settings.public_reads:
        await in_session(request, lambda session: current_principal(request, session))


WriterDep = Annotated[Principal, Depends(current_principal)]
AdminDep = Annotated[Principal, Depends(require_admin)]


def register_reads(
    router: APIRouter, resource: str, paths: list[str], endpoint: object, api: str, summary: str
) -> None:
    """GET and HEAD routes for a read resource, each path its own operation (the endpoint
    calls ``check_read_access`` first)."""
    for n, path in enumerate(paths):
        for method in ("GET", "HEAD"):
            router.add_api_route(
                path,
                endpoint,  # type: ignore[arg-type]
                methods=[method],
                operation_id=f"{api}_{resource}_{method.lower()}_{n}",
                summary=summary,
                response_class=Response,
            )
