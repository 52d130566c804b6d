"""Contract test: ``openapi.yaml`` describes the routes, parameters, formats and errors the app has.

The expectations come from the application (its routes, its writers, its error classes, its
answers) and from the official sdmx-rest OpenAPI files, never from the YAML itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy.orm import Session

from service import __version__
from service.api import data as data_api
from service.api import data_upload
from service.api.notimplemented import V1_OTHER, V2_OTHER, not_implemented
from service.api.structure import V1_PATHS, V2_PATHS
from service.db import make_engine
from service.errors import (
    InternalError,
    NoResultsFound,
    NotAcceptable,
    NotImplementedYet,
    QuerySyntaxError,
    ResultTooLarge,
    SdmxError,
    SemanticError,
    Unauthorized,
)
from service.formats.media_types import STRUCTURE_WRITERS
from service.formats.readers.data import READERS
from service.formats.writers.data_formats import CATALOGUE, OFFERED
from service.formats.writers.sdmx_csv_data import MEDIA_TYPE_20 as SDMX_CSV_20
from service.query.data import PARAMETERS as DATA_PARAMETERS
from service.query.structure import ApiVersion
from service.settings import PROJECT_ROOT, Settings
from service.storage.loader import load_paths
from service.storage.migrate import upgrade
from service.storage.tokens import TokenRepository
from tests.api.test_upload import csv as upload_csv
from tests.api.test_upload import row as upload_row
from tests.conftest import prepare
from tests.shared import ILO_SPECIMEN, SHARED, requires_shared

SPEC_FILE = PROJECT_ROOT / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
OFFICIAL_V1 = SHARED / "sdmx-standard/openapi/v1.5.0/sdmx-rest.yaml"
OFFICIAL_V2 = SHARED / "sdmx-standard/openapi/v2.2.2/sdmx-rest.yaml"

#: Paths documented for clients but answered by the catch-all routes, not by routes of their own.
CATCH_ALL = "x-ilms-served-by"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: The methods of structure queries; the other methods of a structure path maintain structures.
QUERY_METHODS = ("get", "head")
#: Methods that change something: they need a token.
WRITE_METHODS = ("post", "put", "delete", "patch")
PARAM_LOCATIONS = {"path", "query", "header", "cookie"}
#: The errors the service answers structure queries with (the HTTP status is the class's).
STRUCTURE_ERRORS: tuple[type[SdmxError], ...] = (
    QuerySyntaxError,
    SemanticError,
    NoResultsFound,
    NotAcceptable,
    InternalError,
    NotImplementedYet,
)
#: Response headers defined by HTTP or CORS rather than by this API: not documented per response.
TRANSPORT_HEADERS = {
    "content-type",
    "content-length",
    "content-encoding",
    "date",
    "server",
    "access-control-allow-origin",
    "access-control-expose-headers",
}
V1_PREFIX, V2_PREFIX = "/rest/", "/rest/v2/"
#: The data upload route, from the app.
UPLOAD_ROUTE = next(
    r
    for r in data_upload.router.routes
    if isinstance(r, APIRoute) and r.endpoint is data_upload.upload
)
UPLOAD_PATH = UPLOAD_ROUTE.path
(UPLOAD_METHOD,) = {m.lower() for m in UPLOAD_ROUTE.methods or ()}
#: The paths of the data query routes (GET and HEAD), from the app.
DATA_PATHS = list(dict.fromkeys(r.path for r in data_api.router.routes if isinstance(r, APIRoute)))
V1_DATA_PATHS = [p for p in DATA_PATHS if not p.startswith(V2_PREFIX)]
V2_DATA_PATHS = [p for p in DATA_PATHS if p.startswith(V2_PREFIX)]
#: The errors the service answers data queries with (the HTTP status is the class's).
DATA_ERRORS: tuple[type[SdmxError], ...] = (
    QuerySyntaxError,
    Unauthorized,
    SemanticError,
    NoResultsFound,
    NotAcceptable,
    ResultTooLarge,
    InternalError,
    NotImplementedYet,
)
#: The query parameters data queries read: sdmx-rest 1.5.0's and 2.x's (both APIs take all of
#: them), the SDMX-CSV options, ``c[COMPONENT]`` filters and the format override.
DATA_QUERY_PARAMETERS = {*DATA_PARAMETERS, "c", "format", "formatVersion"}


# --- helpers ---------------------------------------------------------------------------------


def pointer(doc: dict[str, Any], ref: str) -> Any:
    """The target of a local ``$ref`` (``#/a/b``), or KeyError."""
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = doc
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(node: Any, doc: dict[str, Any] = SPEC) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(doc, node["$ref"])
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def template_names(path: str) -> list[str]:
    return re.findall(r"\{([^}/]+)\}", path)


def operations(path: str, doc: dict[str, Any] = SPEC) -> dict[str, dict[str, Any]]:
    item = doc["paths"][path]
    return {m: item[m] for m in METHODS if m in item}


def parameters(path: str, method: str, doc: dict[str, Any] = SPEC) -> dict[tuple[str, str], Any]:
    """The parameters of an operation, path-level ones overridden by operation-level ones."""
    item = doc["paths"][path]
    merged: dict[tuple[str, str], Any] = {}
    for raw in [*item.get("parameters", []), *item[method].get("parameters", [])]:
        param = resolve(raw, doc)
        merged[(param["name"], param["in"])] = param
    return merged


def query_operations(path: str) -> dict[str, dict[str, Any]]:
    """The GET and HEAD operations of a path (structure paths also have maintenance ones)."""
    return {m: op for m, op in operations(path).items() if m in QUERY_METHODS}


def all_operations(doc: dict[str, Any] = SPEC) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in doc["paths"]:
        for method, op in operations(path, doc).items():
            yield path, method, op


def served_paths() -> list[str]:
    return [p for p in SPEC["paths"] if CATCH_ALL not in SPEC["paths"][p]]


def catch_all_paths() -> list[str]:
    return [p for p in SPEC["paths"] if CATCH_ALL in SPEC["paths"][p]]


def v1_structure_paths() -> list[str]:
    """The paths of the app's v1 structure query routes."""
    return list(V1_PATHS)


def v2_structure_paths() -> list[str]:
    """The paths of the app's v2 structure query routes."""
    return list(V2_PATHS)


def structure_paths() -> list[str]:
    return [*v1_structure_paths(), *v2_structure_paths()]


def query_param(paths: list[str], name: str) -> dict[str, Any]:
    """The one definition of a query parameter shared by the queries of a family of paths."""
    found = [parameters(p, m).get((name, "query")) for p in paths for m in query_operations(p)]
    assert found, f"no operation among {paths}"
    assert all(f is not None for f in found), f"'{name}' missing on some of {paths}"
    distinct = {json.dumps(f, sort_keys=True) for f in found}
    assert len(distinct) == 1, f"'{name}' is documented differently across {paths}"
    return found[0]


def enum_of(param: dict[str, Any]) -> list[str]:
    schema = param["schema"]
    return list(schema["items"]["enum"] if schema.get("type") == "array" else schema["enum"])


def shortest(paths: list[str]) -> str:
    return min(paths, key=lambda p: len(template_names(p)))


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}/]+)\}", lambda m: quote(values[m.group(1)], safe=",+*~"), path)


def example_of(param: dict[str, Any]) -> str:
    schema = param.get("schema", {})
    candidates = [param.get("example"), *schema.get("examples", []), *schema.get("enum", [])]
    value = next((c for c in candidates if c is not None), None)
    assert value is not None, f"path parameter '{param['name']}' has no example to try"
    return ",".join(value) if isinstance(value, list) else str(value)


def query_of(param: dict[str, Any]) -> dict[str, str]:
    """The query string of a documented query parameter, from its example."""
    value = param["example"]
    if param.get("style") == "deepObject":
        return {f"{param['name']}[{k}]": str(v) for k, v in value.items()}
    if isinstance(value, bool):
        return {param["name"]: str(value).lower()}
    return {param["name"]: ",".join(value) if isinstance(value, list) else str(value)}


def catch_all_resource(path: str) -> tuple[str, str]:
    """The API (v1, v2) and resource of a catch-all path."""
    if path.startswith(V2_PREFIX):
        return "v2", path[len(V2_PREFIX) :].split("/", 1)[0]
    return "v1", path[len(V1_PREFIX) :].split("/", 1)[0]


def sdmx_error_code(response: Response) -> int:
    """The SDMX error code of an error message, SDMX-JSON or SDMX-ML."""
    media_type = response.headers["content-type"]
    assert media_type in STRUCTURE_WRITERS, f"error in an undocumented format: {media_type}"
    if "json" in media_type:
        return int(response.json()["errors"][0]["code"])
    root = etree.fromstring(response.content)
    codes = root.xpath("//*[local-name()='ErrorMessage']/@code")
    assert codes, response.text
    return int(codes[0])


def sdmx_error_text(response: Response) -> str:
    """What an error message says, SDMX-JSON (its detail) or SDMX-ML (its text)."""
    if "json" in response.headers["content-type"]:
        return str(response.json()["errors"][0]["detail"])
    root = etree.fromstring(response.content)
    return " ".join(root.xpath("//*[local-name()='ErrorMessage']//text()"))


def official(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def path_values(path: str, method: str) -> dict[str, str]:
    return {
        name: example_of(p)
        for (name, where), p in parameters(path, method).items()
        if where == "path"
    }


def bearer_schemes() -> set[str]:
    schemes = SPEC["components"].get("securitySchemes", {})
    return {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }


def requires_bearer(op: dict[str, Any]) -> bool:
    """Whether every way to satisfy the operation's security needs a bearer token."""
    requirements = op.get("security", SPEC.get("security", []))
    return bool(requirements) and all(set(r) & bearer_schemes() for r in requirements)


def assert_documented(response: Response, path: str, method: str) -> None:
    """A live response has a documented status, media type, headers and (JSON) body shape."""
    where = f"{method.upper()} {path} {response.status_code}"
    documented = operations(path)[method]["responses"]
    assert str(response.status_code) in documented, f"{where}: undocumented status"
    spec = resolve(documented[str(response.status_code)])
    headers = {h.lower() for h in spec.get("headers", {})}
    assert set(response.headers) - TRANSPORT_HEADERS <= headers, f"{where}: headers"
    if not response.content:
        return
    media_type = response.headers["content-type"]
    content = spec.get("content", {})
    assert media_type in content, f"{where}: {media_type} is not documented"
    if "json" in media_type:
        schema = {"allOf": [content[media_type]["schema"]], "components": SPEC["components"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.json())]
        assert errors == [], f"{where}: the body does not follow the documented schema"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    from service.main import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('openapi-app') / 'x.db'}"
    return create_app(Settings(database_url=url, log_json=False, log_level="WARNING"))


@pytest.fixture(scope="module")
def app_paths(app: FastAPI) -> dict[str, Any]:
    return app.openapi()["paths"]


def _client(settings: Settings) -> Iterator[TestClient]:
    from service.main import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def empty_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app whose store is migrated but holds nothing: every query is a 404."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi-empty') / 'x.db'}"
    settings = Settings(database_url=url, log_json=False, log_level="WARNING")
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    yield from _client(settings)


@pytest.fixture(scope="module")
def write_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """A client of an app whose store holds no structures, and an admin token for it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi-write') / 'x.db'}"
    settings = Settings(database_url=url, log_json=False, log_level="WARNING")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        token, _ = TokenRepository(session).create(provider=None, is_admin=True, label="openapi")
        session.commit()
    engine.dispose()
    for test_client in _client(settings):
        yield test_client, token


@pytest.fixture(scope="module")
def loaded_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app whose store holds the ILO codelist specimen."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi-loaded') / 'x.db'}"
    settings = Settings(database_url=url, log_json=False, log_level="WARNING")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        load_paths(session, [ILO_SPECIMEN])
        session.commit()
    engine.dispose()
    yield from _client(settings)


@pytest.fixture(scope="module")
def data_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app whose store holds the shipped ILMS structures and, uploaded through
    the documented upload path (its examples), a few observations of Thailand."""
    settings = prepare(f"sqlite:///{tmp_path_factory.mktemp('openapi-data') / 'x.db'}")
    engine = make_engine(settings)
    with Session(engine) as session:
        token, _ = TokenRepository(session).create(provider=None, is_admin=True, label="openapi")
        session.commit()
    engine.dispose()
    body = upload_csv(upload_row(year="2019"), upload_row(year="2020", value="11"))
    for test_client in _client(settings):
        response = test_client.request(
            UPLOAD_METHOD.upper(),
            fill(UPLOAD_PATH, path_values(UPLOAD_PATH, UPLOAD_METHOD)),
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": SDMX_CSV_20},
        )
        assert response.status_code == 201, response.text
        yield test_client


@pytest.fixture(scope="module")
def private_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app with an empty store that runs with ILMS_PUBLIC_READS=false."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi-private') / 'x.db'}"
    settings = Settings(database_url=url, log_json=False, log_level="WARNING", public_reads=False)
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    yield from _client(settings)


# --- the document is a valid OpenAPI 3.1 description -------------------------------------------


def test_is_openapi_3_1_with_the_service_identity(app: FastAPI) -> None:
    assert SPEC["openapi"] == "3.1.0"
    assert SPEC["info"]["title"] == app.title
    assert SPEC["info"]["version"] == __version__
    assert SPEC["info"].get("description", "").strip()
    assert [s["url"] for s in SPEC["servers"]] == ["/"]
    assert isinstance(SPEC["paths"], dict)
    assert SPEC["paths"]


def test_every_ref_resolves_and_every_component_is_used() -> None:
    used = set()
    for ref in refs(SPEC):
        try:
            pointer(SPEC, ref)
        except (KeyError, TypeError) as exc:
            pytest.fail(f"$ref {ref} does not resolve ({exc!r})")
        used.add(ref)
    # Security schemes are used by name, in security requirements, not by $ref.
    requirements = [*SPEC.get("security", [])]
    requirements += [r for _, _, op in all_operations() for r in op.get("security", [])]
    schemes = SPEC["components"].get("securitySchemes", {})
    for requirement in requirements:
        assert set(requirement) <= set(schemes), f"undefined security scheme: {requirement}"
        used |= {f"#/components/securitySchemes/{name}" for name in requirement}
    defined = {
        f"#/components/{kind}/{name}"
        for kind, entries in SPEC["components"].items()
        for name in entries
    }
    assert defined - used == set(), "components defined but never referenced"


def test_operations_are_well_formed() -> None:
    tags = {t["name"] for t in SPEC["tags"]}
    operation_ids: list[str] = []
    for path in SPEC["paths"]:
        assert path.startswith("/"), path
        ops = operations(path)
        assert ops, f"{path} has no operation"
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            operation_ids.append(op["operationId"])
            assert set(op.get("tags", [])) <= tags, f"{where}: undeclared tag"
            assert op["responses"], f"{where}: no responses"
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5](\d\d|XX)|default", str(status)), f"{where}: {status}"
                assert resolve(response)["description"].strip(), f"{where} {status}: description"
            raw = [*SPEC["paths"][path].get("parameters", []), *op.get("parameters", [])]
            for param in (resolve(p) for p in raw):
                assert param["in"] in PARAM_LOCATIONS, f"{where}: {param}"
                assert ("schema" in param) != ("content" in param), f"{where}: {param['name']}"
                if param["in"] == "path":
                    assert param.get("required") is True, f"{where}: {param['name']} required"
                if param["in"] == "header":
                    # OpenAPI ignores header parameters with these names.
                    assert param["name"].lower() not in {"accept", "content-type", "authorization"}
    duplicates = {i for i in operation_ids if operation_ids.count(i) > 1}
    assert not duplicates, f"operationId not unique: {duplicates}"


def test_path_templates_and_path_parameters_agree() -> None:
    for path in SPEC["paths"]:
        names = template_names(path)
        assert len(names) == len(set(names)), f"{path} repeats a parameter"
        for method in operations(path):
            declared = {name for name, where in parameters(path, method) if where == "path"}
            assert declared == set(names), f"{method.upper()} {path}: declared {declared}"


def test_paths_are_distinct_templates() -> None:
    """OpenAPI 3.1: templated paths that differ only in their parameter names are the same
    path, and a document must not hold both (e.g. a catch-all entry and a served route)."""
    shapes: dict[str, list[str]] = {}
    for path in SPEC["paths"]:
        shapes.setdefault(re.sub(r"\{[^}/]+\}", "{}", path), []).append(path)
    assert [p for p in shapes.values() if len(p) > 1] == []


def test_schemas_are_valid_json_schema() -> None:
    schemas = list(SPEC["components"]["schemas"].values())
    schemas += [p["schema"] for p in SPEC["components"]["parameters"].values()]
    schemas += [h["schema"] for h in SPEC["components"]["headers"].values()]
    for response in SPEC["components"]["responses"].values():
        schemas += [m["schema"] for m in response.get("content", {}).values()]
    for body in SPEC["components"].get("requestBodies", {}).values():
        schemas += [m["schema"] for m in body["content"].values()]
    for _, _, op in all_operations():
        for response in op["responses"].values():
            schemas += [m["schema"] for m in response.get("content", {}).values()]
    for schema in schemas:
        Draft202012Validator.check_schema(schema)


# --- the document and the application agree ----------------------------------------------------


def test_documented_routes_are_the_app_routes(app_paths: dict[str, Any]) -> None:
    app_ops = {(p, m) for p, item in app_paths.items() for m in item if m in METHODS}
    documented = {(p, m) for p in served_paths() for m in operations(p)}
    assert {m for _, m in app_ops} >= {"get"}
    assert app_ops - documented == set(), "app routes missing from openapi.yaml"
    assert documented - app_ops == set(), "documented routes the app does not have"


def test_app_query_parameters_are_documented(app_paths: dict[str, Any]) -> None:
    """Every query parameter a route takes is documented for it (a path segment of a longer
    route must not be accepted as a query parameter of a shorter one either)."""
    undocumented: dict[str, list[str]] = {}
    for path, item in app_paths.items():
        for method, op in item.items():
            taken = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            documented = {name for name, where in parameters(path, method) if where == "query"}
            if taken - documented:
                undocumented[f"{method.upper()} {path}"] = sorted(taken - documented)
    assert undocumented == {}, "app routes take query parameters openapi.yaml does not document"


def test_app_request_bodies_are_documented(app_paths: dict[str, Any]) -> None:
    """The media types a route declares for its request body are documented for it."""
    declared = {
        (path, method): set(op["requestBody"]["content"])
        for path, item in app_paths.items()
        for method, op in item.items()
        if "requestBody" in op
    }
    assert declared, "no app route declares a request body"
    for (path, method), media_types in declared.items():
        body = resolve(operations(path)[method].get("requestBody", {}))
        assert body.get("required") is True, f"{method.upper()} {path}"
        assert media_types <= set(body["content"]), f"{method.upper()} {path}"


def test_upload_media_types_are_the_readers() -> None:
    body = resolve(operations(UPLOAD_PATH)[UPLOAD_METHOD]["requestBody"])
    assert body.get("required") is True
    assert {base_type(t) for t in body["content"]} == set(READERS)


def test_writes_need_a_bearer_token(empty_client: TestClient) -> None:
    """Every write operation declares the bearer scheme, and the operations that declare it
    are exactly those the app answers 401 without a token (the submission reads too); they
    document that 401."""
    assert bearer_schemes(), "no bearer security scheme"
    guarded: set[tuple[str, str]] = set()
    for path in served_paths():
        for method in operations(path):
            url = fill(path, path_values(path, method))
            response = empty_client.request(method.upper(), url, content=b"")
            if response.status_code == 401:
                guarded.add((path, method))
    secured = {(p, m) for p, m, op in all_operations() if requires_bearer(op)}
    writes = {(p, m) for p, m, _ in all_operations() if m in WRITE_METHODS}
    assert writes, "no write operation is documented"
    assert writes - secured == set(), "write operations without the bearer requirement"
    assert secured == guarded, "documented security differs from what the app asks a token for"
    for path, method in secured:
        description = resolve(operations(path)[method]["responses"]["401"])["description"]
        assert "110" in description, f"{method.upper()} {path}: SDMX code 110"


def test_allow_lists_the_documented_methods(empty_client: TestClient) -> None:
    """A method no route answers is a 405 whose Allow lists the path's documented methods
    (and, under /rest, the GET and HEAD of the catch-all routes)."""
    for path in served_paths():
        documented = {m.upper() for m in operations(path)}
        assert "PATCH" not in documented, path
        url = fill(path, path_values(path, next(iter(operations(path)))))
        response = empty_client.patch(url)
        assert response.status_code == 405, (url, response.text)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert documented <= allowed, (path, allowed)
        extra = {"GET", "HEAD"} if path.startswith(V1_PREFIX) else set()
        assert allowed - documented <= extra, (path, allowed)


def test_write_responses_are_documented(write_client: tuple[TestClient, str]) -> None:
    """Live answers of the write and submission routes: documented statuses, media types,
    headers and JSON shapes."""
    client, token = write_client
    bearer = {"Authorization": f"Bearer {token}"}
    upload, method = UPLOAD_PATH, UPLOAD_METHOD
    url = fill(upload, path_values(upload, method))
    csv = {"Content-Type": "text/csv"}

    refused = client.request(method.upper(), url, content=b"A,B\n1,2\n", headers={**bearer, **csv})
    assert refused.status_code == NoResultsFound.http_status, refused.text  # no dataflow here
    assert_documented(refused, upload, method)
    anonymous = client.request(method.upper(), url, content=b"A\n", headers=csv)
    assert anonymous.status_code == 401
    assert_documented(anonymous, upload, method)
    assert sdmx_error_code(anonymous) == 110

    record_path, list_path = "/rest/v2/submissions/{submission_id}", "/rest/v2/submissions"
    record = client.get(refused.headers["location"], headers=bearer)
    assert record.status_code == 200, record.text
    assert_documented(record, record_path, "get")
    listed = client.get(list_path, headers=bearer, params={"status": "rejected"})
    assert listed.status_code == 200, listed.text
    assert_documented(listed, list_path, "get")
    assert [s["id"] for s in listed.json()["submissions"]] == [record.json()["id"]]
    missing = client.get(fill(record_path, {"submission_id": "999999"}), headers=bearer)
    assert missing.status_code == 404
    assert_documented(missing, record_path, "get")

    artefact = "/rest/v2/structure/{structure_type}/{agency}/{resource_id}/{version}"
    absent = client.delete(fill(artefact, path_values(artefact, "delete")), headers=bearer)
    assert absent.status_code == 404, absent.text
    assert_documented(absent, artefact, "delete")
    not_xml = client.post("/rest/v2/structure", content=b"A\n", headers={**bearer, **csv})
    assert not_xml.status_code == 415, not_xml.text
    assert_documented(not_xml, "/rest/v2/structure", "post")


def test_catch_all_paths_are_the_unimplemented_resources() -> None:
    by_api: dict[str, set[str]] = {"v1": set(), "v2": set()}
    for path in catch_all_paths():
        assert SPEC["paths"][path][CATCH_ALL] == "catch-all"
        api, resource = catch_all_resource(path)
        by_api[api].add(resource)
        for method, op in operations(path).items():
            assert str(NotImplementedYet.http_status) in op["responses"], f"{method} {path}"
    assert by_api["v1"] == set(V1_OTHER)
    assert by_api["v2"] == set(V2_OTHER)


@pytest.mark.parametrize("path", catch_all_paths())
def test_catch_all_paths_answer_501(empty_client: TestClient, path: str) -> None:
    """The example of a catch-all path answers the "resource not implemented" 501 (not the
    501 of a served route, e.g. a data query's unsupported context or parameter)."""
    response = empty_client.get(fill(path, path_values(path, "get")))
    assert response.status_code == NotImplementedYet.http_status, response.text
    assert sdmx_error_code(response) == NotImplementedYet.code
    api, resource = catch_all_resource(path)
    assert not_implemented(api, resource).detail in sdmx_error_text(response), response.text


def test_structure_formats_are_the_writers() -> None:
    writers = set(STRUCTURE_WRITERS)
    for path in structure_paths():
        assert set(query_operations(path)) == set(QUERY_METHODS), path
        for method, op in query_operations(path).items():
            for status, raw in op["responses"].items():
                content = set(resolve(raw).get("content", {}))
                if status == "200" and method == "get":
                    assert content == writers, f"GET {path} 200"
                elif str(status).startswith(("4", "5")):
                    # Errors are written by the same writers, in the negotiated format.
                    assert content == writers, f"{method.upper()} {path} {status}"
                else:
                    assert content == set(), f"{method.upper()} {path} {status} has a body"


def test_structure_errors_are_documented() -> None:
    for path in structure_paths():
        assert set(query_operations(path)) == set(QUERY_METHODS), path
        for method, op in query_operations(path).items():
            for error in STRUCTURE_ERRORS:
                where = f"{method.upper()} {path} {error.http_status}"
                assert str(error.http_status) in op["responses"], where
                description = resolve(op["responses"][str(error.http_status)])["description"]
                assert str(error.code) in description, f"{where}: SDMX code {error.code}"
            assert "304" in op["responses"], f"{method.upper()} {path}: conditional requests"


def test_served_structure_types_are_the_documented_ones(empty_client: TestClient) -> None:
    """Every documented type is served (empty store: 404, not 400 or 501)."""
    for paths in (v1_structure_paths(), v2_structure_paths()):
        path = shortest(paths)
        (name,) = template_names(path)
        values = enum_of(parameters(path, "get")[(name, "path")])
        for value in values:
            response = empty_client.get(fill(path, {name: value}))
            assert response.status_code == NoResultsFound.http_status, (value, response.text)
            assert sdmx_error_code(response) == NoResultsFound.code


def test_documented_query_values_are_accepted(empty_client: TestClient) -> None:
    v1_path, v2_path = shortest(v1_structure_paths()), shortest(v2_structure_paths())
    v1_url = fill(v1_path, {template_names(v1_path)[0]: "codelist"})
    v2_url = fill(v2_path, {template_names(v2_path)[0]: "codelist"})
    for url, paths in ((v1_url, v1_structure_paths()), (v2_url, v2_structure_paths())):
        for name in ("references", "detail"):
            for value in enum_of(query_param(paths, name)):
                response = empty_client.get(url, params={name: value})
                assert response.status_code == NoResultsFound.http_status, (url, name, value)
        for media_type in STRUCTURE_WRITERS:
            by_format = empty_client.get(url, params={"format": media_type})
            by_accept = empty_client.get(url, headers={"Accept": media_type})
            assert by_format.headers["content-type"] == media_type, (url, media_type)
            assert by_accept.headers["content-type"] == media_type, (url, media_type)
    # What v2 documents beyond v1 is refused by v1.
    for name in ("references", "detail"):
        v1_values = set(enum_of(query_param(v1_structure_paths(), name)))
        v2_only = set(enum_of(query_param(v2_structure_paths(), name))) - v1_values
        for value in sorted(v2_only):
            response = empty_client.get(v1_url, params={name: value})
            assert response.status_code == QuerySyntaxError.http_status, (name, value)
            assert sdmx_error_code(response) == QuerySyntaxError.code


@requires_shared
def test_live_responses_use_documented_headers(loaded_client: TestClient) -> None:
    """A real 200 (GET and HEAD) and 304 send only the headers documented for them."""
    for paths in (v1_structure_paths(), v2_structure_paths()):
        path = next(p for p in paths if len(template_names(p)) == 3)
        url = fill(
            path, dict(zip(template_names(path), ("codelist", "ILO", "CL_ECO"), strict=True))
        )
        ops = query_operations(path)
        assert set(ops) == set(QUERY_METHODS), path
        for method in ops:
            response = loaded_client.request(method.upper(), url)
            assert response.status_code == 200, (method, url, response.text)
            assert response.headers["content-type"] in STRUCTURE_WRITERS
            documented = {h.lower() for h in resolve(ops[method]["responses"]["200"])["headers"]}
            assert set(response.headers) - TRANSPORT_HEADERS <= documented, (method, url)
            etag = response.headers["etag"]
            cached = loaded_client.request(method.upper(), url, headers={"If-None-Match": etag})
            assert cached.status_code == 304, (method, url)
            documented = {h.lower() for h in resolve(ops[method]["responses"]["304"])["headers"]}
            assert set(cached.headers) - TRANSPORT_HEADERS <= documented, (method, url)


def test_served_openapi_yaml_is_the_file(empty_client: TestClient) -> None:
    response = empty_client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.content == SPEC_FILE.read_bytes()


# --- data queries -----------------------------------------------------------------------------


def test_data_queries_answer_the_served_formats_only() -> None:
    """A data query's GET 200 is exactly the data formats of the registry, its HEAD 200, 204
    and 304 have no body, and its errors are SDMX error messages, written by the structure
    writers like every error."""
    assert V1_DATA_PATHS
    assert V2_DATA_PATHS
    for path in DATA_PATHS:
        assert set(query_operations(path)) == set(QUERY_METHODS), path
        for method, op in query_operations(path).items():
            for status, raw in op["responses"].items():
                content = set(resolve(raw).get("content", {}))
                where = f"{method.upper()} {path} {status}"
                if status == "200" and method == "get":
                    assert content == set(OFFERED), where
                elif str(status).startswith(("4", "5")):
                    assert content == set(STRUCTURE_WRITERS), where
                else:
                    assert content == set(), f"{where} has a body"


def test_data_errors_are_documented() -> None:
    for path in DATA_PATHS:
        for method, op in query_operations(path).items():
            responses = op["responses"]
            for error in DATA_ERRORS:
                where = f"{method.upper()} {path} {error.http_status}"
                assert str(error.http_status) in responses, where
                description = resolve(responses[str(error.http_status)])["description"]
                assert str(error.code) in description, f"{where}: SDMX code {error.code}"
            assert "304" in responses, f"{method.upper()} {path}: conditional requests"
            # sdmx-rest 2.x answers an empty result with 204; 1.x with 404 (code 100).
            assert ("204" in responses) == path.startswith(V2_PREFIX), path


def test_data_query_parameters(empty_client: TestClient) -> None:
    """Data queries document exactly the parameters the app reads, the same on GET and HEAD
    and on both APIs; every documented example and format is accepted and a structure format
    is not (empty store: 404 for the unknown dataflow, not 400, 406 or 501)."""
    for path in DATA_PATHS:
        for method in query_operations(path):
            documented = {n for n, where in parameters(path, method) if where == "query"}
            assert documented == DATA_QUERY_PARAMETERS, (method, path)
        url = fill(path, path_values(path, "get"))
        params = {n: p for (n, where), p in parameters(path, "get").items() if where == "query"}
        fmt = params.pop("format")
        for name, param in params.items():
            response = empty_client.get(url, params=query_of(param))
            assert response.status_code == NoResultsFound.http_status, (path, name, response.text)
        for value in fmt["schema"]["examples"]:
            response = empty_client.get(url, params={"format": value})
            assert response.status_code == NoResultsFound.http_status, (path, value)
        for media_type in STRUCTURE_WRITERS:
            response = empty_client.get(url, params={"format": media_type})
            assert response.status_code == NotAcceptable.http_status, (path, media_type)


def _data_answers(client: TestClient, path: str) -> list[tuple[Response, int, str]]:
    """(response, expected status, method) of a data path's documented examples and of
    variations on them that fail."""
    values = path_values(path, "get")
    url = fill(path, values)
    resource = "flow_ref" if "flow_ref" in values else "resource_id"
    answers = [
        (client.get(fill(path, {**values, resource: "DF_NONE"})), NoResultsFound.http_status),
        (client.get(url, headers={"Accept": next(iter(STRUCTURE_WRITERS))}), 406),
        (client.get(url, params={"startPeriod": "soon"}), QuerySyntaxError.http_status),
        (client.get(url, params={"sort": "OBS_STATUS"}), NotImplementedYet.http_status),
    ]
    if "key" in values:  # more parts than any data structure has dimensions
        too_long = fill(path, {**values, "key": ".".join(["*"] * 50)})
        answers.append((client.get(too_long), QuerySyntaxError.http_status))
    if "flow_ref" in values:
        bad_ref = fill(path, {**values, "flow_ref": "ILO,DF_ILMS_A05,1.0,X"})
        answers.append((client.get(bad_ref), QuerySyntaxError.http_status))
    # Nothing matches: v2 answers 204, v1 404 (SDMX error 100).
    nothing = client.get(url, params={"c[REF_AREA]": "KHM"})
    answers.append((nothing, 204 if "context" in values else NoResultsFound.http_status))
    if "context" in values:
        several = fill(path, {**values, "resource_id": "*", "version": "1.0"})
        answers.append((client.get(several), NotImplementedYet.http_status))
    return [(r, status, "get") for r, status in answers]


def test_data_responses_are_documented(data_client: TestClient) -> None:
    """Live answers of the data queries on their documented examples (which name data that
    exist): documented statuses, media types, headers and JSON shapes."""
    for path in DATA_PATHS:
        url = fill(path, path_values(path, "get"))
        api = ApiVersion.V2 if path.startswith(V2_PREFIX) else ApiVersion.V1
        found = data_client.get(url)
        assert found.status_code == 200, (url, found.text)
        assert found.headers["content-type"] == CATALOGUE.apis[api].default, url
        served = [data_client.get(url, headers={"Accept": m}) for m in OFFERED]
        assert [r.headers["content-type"] for r in served] == list(OFFERED), url
        head = data_client.head(url)
        assert head.status_code == 200
        assert head.content == b""
        cached = data_client.get(url, headers={"If-None-Match": found.headers["etag"]})
        assert cached.status_code == 304, url
        answers = [
            (found, 200, "get"),
            *((response, 200, "get") for response in served),
            (head, 200, "head"),
            (cached, 304, "get"),
            *_data_answers(data_client, path),
        ]
        for response, status, method in answers:
            assert response.status_code == status, (path, status, response.text)
            assert_documented(response, path, method)


def test_data_reads_may_need_a_token(private_client: TestClient) -> None:
    """Data queries are public or need a token (ILMS_PUBLIC_READS=false): both are documented,
    and the 401 a private service answers is."""
    for path in DATA_PATHS:
        for method, op in query_operations(path).items():
            requirements = op.get("security", SPEC.get("security", []))
            assert {} in requirements, f"{method} {path}: anonymous reads (the default)"
            assert any(set(r) & bearer_schemes() for r in requirements), f"{path}: tokens"
        response = private_client.get(fill(path, path_values(path, "get")))
        assert response.status_code == Unauthorized.http_status, (path, response.text)
        assert sdmx_error_code(response) == Unauthorized.code
        assert_documented(response, path, "get")


@requires_shared
def test_data_parameters_follow_sdmx_rest() -> None:
    """Every query parameter of the official data query of an API version is documented for
    its data paths, with the official types."""
    official_data = (
        (V1_DATA_PATHS, official(OFFICIAL_V1), "/data/{flow}/{key}/{provider}"),
        (
            V2_DATA_PATHS,
            official(OFFICIAL_V2),
            "/data/{context}/{agencyID}/{resourceID}/{version}/{key}",
        ),
    )
    for paths, spec, official_path in official_data:
        raw = spec["paths"][official_path]["get"]["parameters"]
        theirs = {p["name"]: p for p in (resolve(r, spec) for r in raw) if p["in"] == "query"}
        for path in paths:
            ours = {n: p for (n, where), p in parameters(path, "get").items() if where == "query"}
            assert set(theirs) <= set(ours), (path, set(theirs) - set(ours))
            for name, official_param in theirs.items():
                param = ours[name]
                assert param["schema"].get("type") == official_param["schema"].get("type"), name
                assert param.get("style") == official_param.get("style"), name
                assert param.get("explode") == official_param.get("explode"), name


# --- the document and the official sdmx-rest OpenAPI files agree ----------------------------


@requires_shared
def test_v1_enums_follow_sdmx_rest_1_5_0() -> None:
    spec = official(OFFICIAL_V1)
    components = spec["components"]["parameters"]
    ours_refs = query_param(v1_structure_paths(), "references")
    ours_detail = query_param(v1_structure_paths(), "detail")
    path = shortest(v1_structure_paths())
    types = enum_of(parameters(path, "get")[(template_names(path)[0], "path")])

    theirs_refs = components["references"]["schema"]
    assert set(enum_of(ours_refs)) >= set(theirs_refs["enum"])
    assert set(enum_of(ours_refs)) - set(theirs_refs["enum"]) <= set(types)
    assert ours_refs["schema"]["default"] == theirs_refs["default"]

    theirs_detail = components["structDetail"]["schema"]
    assert set(enum_of(ours_detail)) == set(theirs_detail["enum"])
    assert ours_detail["schema"]["default"] == theirs_detail["default"]

    official_types = {p.strip("/").split("/", 1)[0] for p in spec["paths"]}
    assert set(types) <= official_types


@requires_shared
def test_unserved_standard_types_answer_501(empty_client: TestClient) -> None:
    v1_spec, v2_spec = official(OFFICIAL_V1), official(OFFICIAL_V2)
    # Besides the resources the catch-all answers, "data" has routes of its own.
    v1_types = {p.strip("/").split("/", 1)[0] for p in v1_spec["paths"]} - V1_OTHER - {"data"}
    v2_types = set(v2_spec["components"]["parameters"]["structureType"]["schema"]["enum"])
    for paths, standard in ((v1_structure_paths(), v1_types), (v2_structure_paths(), v2_types)):
        path = shortest(paths)
        (name,) = template_names(path)
        documented = set(enum_of(parameters(path, "get")[(name, "path")]))
        for value in sorted(standard - documented):
            response = empty_client.get(fill(path, {name: value}))
            assert response.status_code == NotImplementedYet.http_status, (value, response.text)
            assert sdmx_error_code(response) == NotImplementedYet.code


@requires_shared
def test_v2_enums_follow_sdmx_rest_2_2_2() -> None:
    spec = official(OFFICIAL_V2)
    components = spec["components"]["parameters"]
    ours_refs = query_param(v2_structure_paths(), "references")
    ours_detail = query_param(v2_structure_paths(), "detail")
    path = shortest(v2_structure_paths())
    types = enum_of(parameters(path, "get")[(template_names(path)[0], "path")])

    theirs_refs = components["references"]
    assert set(enum_of(ours_refs)) >= set(enum_of(theirs_refs))
    assert set(enum_of(ours_refs)) - set(enum_of(theirs_refs)) <= set(types)
    assert (ours_refs.get("style"), ours_refs.get("explode")) == (
        theirs_refs.get("style"),
        theirs_refs.get("explode"),
    )

    theirs_detail = components["structDetail"]["schema"]
    assert set(enum_of(ours_detail)) == set(theirs_detail["enum"])
    assert ours_detail["schema"]["default"] == theirs_detail["default"]

    assert set(types) <= set(components["structureType"]["schema"]["enum"])
