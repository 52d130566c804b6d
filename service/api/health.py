"""Liveness (``/health``) and readiness (``/ready``: the store answers and is migrated)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service import __version__
from service.storage.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/ready", summary="Readiness: the store is reachable and migrated", response_model=None)
def ready(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except Exception as exc:  # any driver error means "not ready"; say which
        return JSONResponse({"status": "unavailable", "detail": str(exc)[:300]}, status_code=503)
    head = head_revision()
    if revision != head:
        detail = f"store at migration {revision}, code expects {head}: run `ilms db upgrade`"
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
    return JSONResponse({"status": "ready", "database": engine.dialect.name, "revision": revision})
