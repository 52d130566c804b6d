"""The service's own OpenAPI description (``openapi.yaml``) and interactive docs over it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.settings import PROJECT_ROOT

router = APIRouter(include_in_schema=False)

OPENAPI_YAML = PROJECT_ROOT / "openapi.yaml"


@router.get("/openapi.yaml")
def openapi_yaml() -> Response:
    return Response(OPENAPI_YAML.read_bytes(), media_type="application/yaml")


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.yaml", title="ilms-sdmx API")


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/docs")
