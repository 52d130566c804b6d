"""Standard SDMX REST resources this service does not implement yet: 501, never a bare 404."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.errors import NoResultsFound, NotImplementedYet

router = APIRouter()

#: v1 (SDMX 2.1) resources outside the structure, data and availability APIs, per sdmx-rest
#: v1.5.0.
V1_OTHER = frozenset({"metadata", "schema"})
#: v2 (SDMX 3.0) resources outside the structure, data and availability APIs, per sdmx-rest
#: v2.x; ``data`` paths the data routes do not serve (over several artefacts: no resource id)
#: land here too.
V2_OTHER = frozenset({"data", "metadata", "schema", "registration"})


def not_implemented(api: str, resource: str) -> NotImplementedYet:
    return NotImplementedYet(
        f"the SDMX REST {api} '{resource}' resource is not implemented by this service yet"
    )


def v2_error(path: str, full_path: str) -> NotImplementedYet | NoResultsFound:
    """The error for a v2 path no route serves: 501 for a standard resource, else 404."""
    resource = path.split("/", 1)[0]
    if resource in V2_OTHER:
        return not_implemented("v2", resource)
    return NoResultsFound(
        f"no resource at {full_path}; SDMX REST v2 structure queries look like "
        "/rest/v2/structure/{type}/{agency}/{id}/{version}"
    )


@router.api_route("/rest/v2/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def v2_other(path: str, request: Request) -> None:
    raise v2_error(path, request.url.path)


@router.api_route("/rest/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def v1_other(path: str, request: Request) -> None:
    resource = path.split("/", 1)[0]
    if resource in V1_OTHER:
        raise not_implemented("v1", resource)
    raise NoResultsFound(
        f"no resource at {request.url.path}; SDMX REST v1 structure queries look like "
        "/rest/{resource}/{agency}/{id}/{version}"
    )
