"""Conformance harness: the real service under uvicorn on loopback, what the shipped files say.

- ``ilms_server``: a store prepared like ``ilms serve`` does (SQLite, and PostgreSQL when
  ILMS_TEST_DATABASE_URL is set: the ``store_kind`` parameter of tests/conftest.py), served by
  ``python -m uvicorn service.main:create_app --factory`` on 127.0.0.1 and a free port.
- ``catalogue()``: the expected content, read with lxml straight from codelists/ and dsd/
  (independently of the service's own reader), so that clients' views can be compared with it.
- ``schema_check``: XSD / JSON-schema validation that validates each distinct artefact once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from lxml import etree

from service.settings import PROJECT_ROOT
from tests.conftest import prepare, store_url
from tests.jsonschemas import validate_sdmx_json
from tests.live import launch, stop
from tests.xsd import validate_sdmx_ml

ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
JSON10 = "application/vnd.sdmx.structure+json;version=1.0.0"
JSON20 = "application/vnd.sdmx.structure+json;version=2.0.0"


@dataclass(frozen=True)
class Format:
    """One structure format the service serves, and the schema that judges it."""

    name: str
    media_type: str
    syntax: str  # "xml" or "json"
    schema_version: str  # "2.1"/"3.0" for validate_sdmx_ml, "1.0"/"2.0" for validate_sdmx_json

    def __str__(self) -> str:
        return self.name


FORMATS = (
    Format("sdmx-ml-2.1", ML21, "xml", "2.1"),
    Format("sdmx-ml-3.0", ML30, "xml", "3.0"),
    Format("sdmx-json-1.0", JSON10, "json", "1.0"),
    Format("sdmx-json-2.0", JSON20, "json", "2.0"),
)
FORMAT = {f.name: f for f in FORMATS}


# --- The server -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:<port>
    kind: str  # sqlite or postgres

    @property
    def rest(self) -> str:
        """The SDMX REST v1 entry point (SDMX 2.1 paths)."""
        return f"{self.base}/rest"

    @property
    def rest_v2(self) -> str:
        """The SDMX REST v2 entry point (``/structure/...`` below it)."""
        return f"{self.base}/rest/v2"


@pytest.fixture(scope="session")
def ilms_server(store_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real service over HTTP on a store holding the shipped structures."""
    folder = tmp_path_factory.mktemp(f"conformance-{store_kind}")
    url = store_url(store_kind, folder, "conformance")
    prepare(url)
    proc, base = launch(url, folder / "server.log")
    try:
        yield Server(base=base, kind=store_kind)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def http(ilms_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ilms_server.base, timeout=60.0) as client:
        yield client


def fetch(http: httpx.Client, path: str, fmt: Format | str, **headers: str) -> httpx.Response:
    """GET ``path`` in a format; fail with the body's start unless the answer is a 200."""
    media_type = fmt.media_type if isinstance(fmt, Format) else fmt
    response = http.get(path, headers={"Accept": media_type, **headers})
    assert response.status_code == 200, f"GET {path} ({media_type}): {response.text[:500]}"
    assert response.headers["content-type"].replace(" ", "").startswith(media_type)
    return response


# --- What the shipped files say ---------------------------------------------------------------

_MES = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
_STR = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
_COM = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class Item:
    id: str
    names: dict[str, str]
    parent: str | None = None


@dataclass(frozen=True)
class Scheme:
    """An item scheme: codelist, concept scheme, category scheme, agency or provider scheme."""

    kind: str  # the SDMX-ML 2.1 element: Codelist, ConceptScheme, DataProviderScheme...
    agency: str
    id: str
    version: str
    is_final: bool
    names: dict[str, str]
    items: tuple[Item, ...]
    file: str

    def __str__(self) -> str:
        return self.id

    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]


@dataclass(frozen=True)
class Component:
    id: str
    role: str  # dimension, time, attribute, measure
    concept: tuple[str, str]  # (concept scheme id, concept id)
    codelist: str | None  # the id of the local enumeration


@dataclass(frozen=True)
class Dsd:
    agency: str
    id: str
    version: str
    names: dict[str, str]
    components: tuple[Component, ...]

    def ids(self, *roles: str) -> list[str]:
        return [c.id for c in self.components if c.role in roles]

    @property
    def codelists(self) -> dict[str, str]:
        """Component id -> the id of the codelist enumerating it."""
        return {c.id: c.codelist for c in self.components if c.codelist}


@dataclass(frozen=True)
class Constraint:
    id: str
    names: dict[str, str]
    role: str  # Allowed / Actual
    dataflows: tuple[str, ...]  # the dataflows it is attached to
    providers: tuple[str, ...]  # the data providers it is attached to
    include: bool
    cube: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Flow:
    agency: str
    id: str
    version: str
    names: dict[str, str]
    dsd: str
    constraints: tuple[str, ...] = ()
    categorisations: dict[str, str] = field(default_factory=dict)  # id -> category id
    agreements: dict[str, str] = field(default_factory=dict)  # id -> data provider id


@dataclass(frozen=True)
class Catalogue:
    schemes: dict[tuple[str, str], Scheme]  # (kind, id) -> scheme
    dsds: dict[str, Dsd]
    flows: dict[str, Flow]
    constraints: dict[str, Constraint]

    def codelist(self, id_: str) -> Scheme:
        return self.schemes["Codelist", id_]

    def of_kind(self, kind: str) -> list[Scheme]:
        return [s for (k, _), s in sorted(self.schemes.items()) if k == kind]

    @property
    def codelist_files(self) -> list[Scheme]:
        """Codelists and concept schemes of codelists/ (what ``ilms structures import-ilo``
        writes)."""
        found = [s for s in self.schemes.values() if s.file.startswith("codelists/")]
        return sorted(found, key=lambda s: s.id)


def _names(element: etree._Element, tag: str = "Name") -> dict[str, str]:
    return {n.get(_LANG, "en"): n.text or "" for n in element.findall(f"{{{_COM}}}{tag}")}


def _ref(element: etree._Element | None) -> etree._Element:
    assert element is not None
    ref = element.find("Ref")
    assert ref is not None, etree.tostring(element)[:200]
    return ref


def _scheme(element: etree._Element, file: str) -> Scheme:
    kind = etree.QName(element).localname
    items = []
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != _STR:
            continue
        parent = child.find(f"{{{_STR}}}Parent")
        items.append(
            Item(
                id=child.get("id", ""),
                names=_names(child),
                parent=None if parent is None else _ref(parent).get("id"),
            )
        )
    return Scheme(
        kind=kind,
        agency=element.get("agencyID", ""),
        id=element.get("id", ""),
        version=element.get("version", "1.0"),
        is_final=element.get("isFinal") == "true",
        names=_names(element),
        items=tuple(items),
        file=file,
    )


def _dsd(element: etree._Element) -> Dsd:
    roles = {"Dimension": "dimension", "TimeDimension": "time"}
    roles |= {"MeasureDimension": "dimension", "Attribute": "attribute"}
    roles |= {"PrimaryMeasure": "measure"}
    components = []
    lists = element.find(f"{{{_STR}}}DataStructureComponents")
    assert lists is not None
    for part in lists:
        for comp in part:
            role = roles.get(etree.QName(comp).localname)
            if role is None:
                continue
            concept = _ref(comp.find(f"{{{_STR}}}ConceptIdentity"))
            enum = comp.find(f"{{{_STR}}}LocalRepresentation/{{{_STR}}}Enumeration")
            components.append(
                Component(
                    id=comp.get("id", ""),
                    role=role,
                    concept=(concept.get("maintainableParentID", ""), concept.get("id", "")),
                    codelist=None if enum is None else _ref(enum).get("id"),
                )
            )
    return Dsd(
        agency=element.get("agencyID", ""),
        id=element.get("id", ""),
        version=element.get("version", ""),
        names=_names(element),
        components=tuple(components),
    )


def _constraint(element: etree._Element) -> Constraint:
    attachment = element.find(f"{{{_STR}}}ConstraintAttachment")
    assert attachment is not None
    flows = tuple(_ref(d).get("id", "") for d in attachment.findall(f"{{{_STR}}}Dataflow"))
    providers = [_ref(d).get("id", "") for d in attachment.findall(f"{{{_STR}}}DataProvider")]
    assert flows or providers, f"{element.get('id')}: attached to neither dataflow nor provider"
    regions = element.findall(f"{{{_STR}}}CubeRegion")
    assert len(regions) == 1, f"{element.get('id')}: one cube region expected"
    cube = {
        kv.get("id", ""): tuple(v.text or "" for v in kv.findall(f"{{{_COM}}}Value"))
        for kv in regions[0].findall(f"{{{_COM}}}KeyValue")
    }
    return Constraint(
        id=element.get("id", ""),
        names=_names(element),
        role=element.get("type", "Allowed"),
        dataflows=flows,
        providers=tuple(providers),
        include=regions[0].get("include", "true") == "true",
        cube=cube,
    )


@cache
def catalogue() -> Catalogue:
    """Everything in codelists/ and dsd/, read with plain lxml (SDMX-ML 2.1 files)."""
    schemes: dict[tuple[str, str], Scheme] = {}
    dsds: dict[str, Dsd] = {}
    flows: dict[str, dict[str, Any]] = {}
    constraints: dict[str, Constraint] = {}
    categorisations: list[tuple[str, str, str]] = []  # (id, flow, category)
    agreements: list[tuple[str, str, str]] = []  # (id, flow, provider)
    item_schemes = {"Codelist", "ConceptScheme", "CategoryScheme", "AgencyScheme"}
    item_schemes |= {"DataProviderScheme"}
    files = sorted((PROJECT_ROOT / "codelists").glob("*.xml"))
    files += sorted((PROJECT_ROOT / "dsd").glob("*.xml"))
    for path in files:
        root = etree.parse(str(path), etree.XMLParser(huge_tree=True)).getroot()
        assert etree.QName(root).namespace == _MES, f"{path} is not an SDMX-ML 2.1 message"
        file = str(path.relative_to(PROJECT_ROOT))
        for container in root.iterfind(f"{{{_MES}}}Structures/*"):
            for element in container:
                kind = etree.QName(element).localname
                if kind in item_schemes:
                    schemes[kind, element.get("id", "")] = _scheme(element, file)
                elif kind == "DataStructure":
                    dsds[element.get("id", "")] = _dsd(element)
                elif kind == "Dataflow":
                    flows[element.get("id", "")] = {
                        "agency": element.get("agencyID", ""),
                        "id": element.get("id", ""),
                        "version": element.get("version", ""),
                        "names": _names(element),
                        "dsd": _ref(element.find(f"{{{_STR}}}Structure")).get("id", ""),
                    }
                elif kind == "ContentConstraint":
                    constraints[element.get("id", "")] = _constraint(element)
                elif kind == "Categorisation":
                    source = _ref(element.find(f"{{{_STR}}}Source")).get("id", "")
                    target = _ref(element.find(f"{{{_STR}}}Target")).get("id", "")
                    categorisations.append((element.get("id", ""), source, target))
                elif kind == "ProvisionAgreement":
                    usage = _ref(element.find(f"{{{_STR}}}StructureUsage")).get("id", "")
                    provider = _ref(element.find(f"{{{_STR}}}DataProvider")).get("id", "")
                    agreements.append((element.get("id", ""), usage, provider))
    built = {
        flow_id: Flow(
            **info,
            constraints=tuple(c.id for c in constraints.values() if flow_id in c.dataflows),
            categorisations={i: cat for i, f, cat in categorisations if f == flow_id},
            agreements={i: p for i, f, p in agreements if f == flow_id},
        )
        for flow_id, info in flows.items()
    }
    return Catalogue(schemes=schemes, dsds=dsds, flows=built, constraints=constraints)


# --- Schema validation, each distinct artefact once -------------------------------------------


Key = tuple[str, str]  # (container or collection, digest of the artefact)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SchemaCheck:
    """Validate messages against the official XSDs and JSON schemas, economically.

    The messages of ``?references=all`` queries repeat the same large codelists (CL_AREA,
    CL_MEASURE, CL_CBR...). Each message is validated whole, except that artefacts already
    validated byte for byte (same container, same serialisation) in an earlier message of the
    same format are left out; the first artefact of a message is always kept, so that every
    message validated still holds content. What is left out was validated in the same position
    of the same schema, so the verdict is the same as validating every message whole.
    """

    def __init__(self) -> None:
        self._seen: dict[str, set[Key]] = {}

    def __call__(self, body: bytes, fmt: Format) -> int:
        """Validate; return how many artefacts the message holds (0 for an error message)."""
        seen = self._seen.setdefault(fmt.name, set())
        if fmt.syntax == "xml":
            new, count = self._xml(body, fmt, seen)
        else:
            new, count = self._json(body, fmt, seen)
        seen.update(new)
        return count

    @staticmethod
    def _xml(body: bytes, fmt: Format, seen: set[tuple[str, str]]) -> tuple[set[Key], int]:
        root = etree.fromstring(body, parser=etree.XMLParser(huge_tree=True))
        new: set[Key] = set()
        structures = root.find("{*}Structures")
        first = True
        count = 0
        for container in [] if structures is None else list(structures):
            for artefact in list(container):
                count += 1
                key = (str(container.tag), _digest(etree.tostring(artefact)))
                if key in seen and not first:
                    container.remove(artefact)
                else:
                    new.add(key)
                first = False
            if len(container) == 0:
                structures.remove(container)  # type: ignore[union-attr]
        validate_sdmx_ml(etree.tostring(root), fmt.schema_version)
        return new, count

    @staticmethod
    def _json(body: bytes, fmt: Format, seen: set[tuple[str, str]]) -> tuple[set[Key], int]:
        doc = json.loads(body)
        new: set[Key] = set()
        data = doc.get("data")
        first = True
        count = 0
        if isinstance(data, dict):
            for collection, artefacts in list(data.items()):
                if not isinstance(artefacts, list):
                    continue
                kept = []
                for artefact in artefacts:
                    count += 1
                    key = (collection, _digest(json.dumps(artefact, sort_keys=True).encode()))
                    if key not in seen or first:
                        kept.append(artefact)
                        new.add(key)
                    first = False
                if kept:
                    data[collection] = kept
                else:
                    del data[collection]
        validate_sdmx_json(doc, "structure", fmt.schema_version)
        return new, count


@pytest.fixture(scope="session")
def schema_check(ilms_server: Server) -> SchemaCheck:
    """One per server: each store's answers are validated on their own."""
    return SchemaCheck()
