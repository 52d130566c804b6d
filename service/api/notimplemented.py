"""Standard SDMX REST resources this service does not implement yet: 501, never a bare 404;
and, for a path no route serves, a 404 that shows what the resource's paths look like."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.errors import NoResultsFound, NotImplementedYet

router = APIRouter()

#: v1 (SDMX 2.1) resources outside the structure, data and availability APIs, per sdmx-rest
#: v1.5.0.
V1_OTHER = frozenset({"metadata", "schema"})
#: v2 (SDMX 3.0) resources outside the structure, data, availability and schema APIs, per
#: sdmx-rest v2.x (``service.api.schema`` answers every ``schema`` path itself); ``data``
#: paths the data routes do not serve (over several artefacts: no resource id) land here too.
V2_OTHER = frozenset({"data", "metadata", "registration"})

#: What the paths of the resources served look like, per API: the kind of query, its template.
V1_TEMPLATES = {
    "data": ("data", "/rest/data/{flowRef}/{key}/{providerRef}"),
    "availableconstraint": (
        "availability",
        "/rest/availableconstraint/{flowRef}/{key}/{providerRef}/{componentID}",
    ),
}
V1_STRUCTURE = ("structure", "/rest/{resource}/{agency}/{id}/{version}")
V2_TEMPLATES = {
    "data": ("data", "/rest/v2/data/{context}/{agencyID}/{resourceID}/{version}/{key}"),
    "availability": (
        "availability",
        "/rest/v2/availability/{context}/{agencyID}/{resourceID}/{version}/{key}/{componentID}",
    ),
}
V2_STRUCTURE = ("structure", "/rest/v2/structure/{type}/{agency}/{id}/{version}")
#: v2 resources served for one artefact, and how many path segments (after the resource) a
#: path needs to name one: fewer ask for every artefact at once (501).
_V2_ONE_ARTEFACT = {"data": 3, "availability": 1}


def not_implemented(api: str, resource: str) -> NotImplementedYet:
    if api == "v2" and resource in _V2_ONE_ARTEFACT:  # served, for one artefact
        return across_artefacts(resource)
    return NotImplementedYet(
        f"the SDMX REST {api} '{resource}' resource is not implemented by this service yet"
    )


def across_artefacts(resource: str) -> NotImplementedYet:
    """501 for a v2 ``data`` or ``availability`` path that names no artefact (no resource id,
    or no context): a query across dataflows."""
    kind, template = V2_TEMPLATES[resource]
    article = "an" if kind[0] in "aeiou" else "a"
    return NotImplementedYet(
        f"{article} {kind} query across dataflows is not supported; name one: {template}"
    )


def no_such_path(full_path: str, api: str, resource: str) -> NoResultsFound:
    """404 (SDMX error 100) for a path no route serves, with the template of the resource's
    paths (structure queries' for a resource the API does not have). v1 resource names in
    another case (``/rest/Data/...``) get their template and a word on case."""
    templates, structure = (
        (V2_TEMPLATES, V2_STRUCTURE) if api == "v2" else (V1_TEMPLATES, V1_STRUCTURE)
    )
    name = resource if api == "v2" else resource.lower()
    kind, template = templates.get(name, structure)
    case = " (resource names are case-sensitive)" if name in templates and name != resource else ""
    return NoResultsFound(
        f"no resource at {full_path}; SDMX REST {api} {kind} queries look like {template}{case}"
    )


def v2_error(path: str, full_path: str) -> NotImplementedYet | NoResultsFound:
    """The error for a v2 path no route serves: 501 for a standard resource not implemented,
    or a data or availability query across dataflows; else 404 with the paths' template."""
    resource, *segments = path.split("/")
    needed = _V2_ONE_ARTEFACT.get(resource)
    if needed is not None:
        if len(segments) < needed and all(segments):
            return across_artefacts(resource)
        return no_such_path(full_path, "v2", resource)
    if resource in V2_OTHER:
        return not_implemented("v2", resource)
    return no_such_path(full_path, "v2", resource)


@router.api_route("/rest/v2/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def v2_other(path: str, request: Request) -> None:
    raise v2_error(path, request.url.path)


@router.api_route("/rest/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def v1_other(path: str, request: Request) -> None:
    resource = path.split("/", 1)[0]
    if resource in V1_OTHER:
        raise not_implemented("v1", resource)
    raise no_such_path(request.url.path, "v1", resource)
