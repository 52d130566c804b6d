"""Structure maintenance over HTTP (POST, PUT, DELETE under /rest/v2/structure), both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from service.db import make_engine
from service.formats.base import Header, Lang
from service.formats.writers.sdmx_ml_21_structure import SdmxMl21StructureWriter
from service.formats.writers.sdmx_ml_30_structure import SdmxMl30StructureWriter
from service.main import create_app
from service.model import (
    Artefact,
    Categorisation,
    Category,
    CategoryScheme,
    Code,
    Codelist,
    Concept,
    ConceptScheme,
    Dataflow,
    Ref,
    Representation,
)
from service.settings import PROJECT_ROOT, Settings
from service.storage.tokens import TokenRepository
from tests.conftest import prepare, store_url
from tests.xsd import validate_sdmx_ml

ML21 = "application/vnd.sdmx.structure+xml;version=2.1"
ML30 = "application/vnd.sdmx.structure+xml;version=3.0.0"
REG21 = "application/vnd.sdmx.registry+xml;version=2.1"
REG30 = "application/vnd.sdmx.registry+xml;version=3.0.0"
NS21 = {
    "m": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
    "s": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}
STRUCTURE = "/rest/v2/structure"
HEADER = Header(id="TEST", prepared=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), sender="TEST")
DF_A01 = Ref(cls="Dataflow", agency="ILO", id="DF_ILMS_A01", version="1.0")


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings(store_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store of this module's own: its writes never reach the shared ``client``'s store."""
    return prepare(store_url(store_kind, tmp_path_factory.mktemp("maintenance"), "maintenance"))


@pytest.fixture(scope="module")
def tokens(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings)
    with Session(engine) as session:
        repo = TokenRepository(session)
        admin, _ = repo.create(provider=None, is_admin=True, label="maintenance tests")
        provider, _ = repo.create(provider="ILO:THA", is_admin=False)
        session.commit()
    engine.dispose()
    return {"admin": admin, "provider": provider}


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['admin']}"}


# --- helpers -----------------------------------------------------------------------------------


def codelist(
    id_: str, *codes: str, version: str = "1.0", final: bool = False, name: str = "Test"
) -> Codelist:
    items = tuple(Code(id=c, names={"en": f"Code {c}"}) for c in codes)
    return Codelist(
        agency="ILO", id=id_, version=version, names={"en": name}, is_final=final, items=items
    )


def category_scheme(id_: str, *categories: str) -> CategoryScheme:
    items = tuple(Category(id=c, names={"en": c}) for c in categories)
    return CategoryScheme(agency="ILO", id=id_, names={"en": id_}, is_final=False, items=items)


def categorisation(id_: str, scheme: str, category: str) -> Categorisation:
    target = Ref(cls="Category", agency="ILO", id=scheme, version="1.0", item=category)
    return Categorisation(
        agency="ILO", id=id_, names={"en": id_}, is_final=False, source=DF_A01, target=target
    )


def ml21(*artefacts: Artefact) -> bytes:
    return SdmxMl21StructureWriter().write_structures(list(artefacts), header=HEADER, lang=Lang())


def ml30(*artefacts: Artefact) -> bytes:
    return SdmxMl30StructureWriter().write_structures(list(artefacts), header=HEADER, lang=Lang())


@dataclass(frozen=True)
class Result:
    action: str
    urn: str
    status: str
    code: int
    text: str


def results(response: Any, version: str = "2.1") -> list[Result]:
    """The SubmissionResults of a schema-valid SubmitStructureResponse."""
    assert response.headers["content-type"] == (REG21 if version == "2.1" else REG30)
    validate_sdmx_ml(response.content, version)
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == "RegistryInterface"
    found = []
    for el in root.iter("{*}SubmissionResult"):
        target = el.find("{*}SubmittedStructure/{*}MaintainableObject")
        text = el.find("{*}StatusMessage/{*}MessageText")
        assert target is not None
        assert text is not None
        found.append(
            Result(
                action=el.find("{*}SubmittedStructure").get("action"),
                urn=(target.findtext("URN") if version == "2.1" else target.text) or "",
                status=el.find("{*}StatusMessage").get("status"),
                code=int(text.get("code")),
                text=" ".join(text.itertext()),
            )
        )
    return found


def error_code(response: Any) -> int:
    """The SDMX error code in an error message, whatever its format."""
    if "json" in response.headers["content-type"]:
        return int(response.json()["errors"][0]["code"])
    found = etree.fromstring(response.content).find(".//{*}ErrorMessage")
    assert found is not None, response.text[:300]
    return int(found.get("code"))


def post(api: TestClient, headers: dict[str, str], body: bytes, **kw: Any) -> Any:
    content_type = kw.pop("content_type", ML21)
    path = kw.pop("path", STRUCTURE)
    return api.post(path, content=body, headers={**headers, "Content-Type": content_type, **kw})


def get_codelist(api: TestClient, id_: str, version: str = "1.0") -> Any:
    return api.get(f"{STRUCTURE}/codelist/ILO/{id_}/{version}", headers={"Accept": ML21})


def code_ids(response: Any) -> list[str]:
    root = etree.fromstring(response.content)
    return [c.get("id") for c in root.iterfind(".//s:Code", NS21)]


def names(response: Any) -> list[str]:
    root = etree.fromstring(response.content)
    return [n.text for n in root.iterfind(".//s:Codelist/c:Name", NS21)]


# --- tests -------------------------------------------------------------------------------------


class TestCreate:
    def test_post_creates_and_get_shows_it_at_once(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert get_codelist(api, "CL_MT_NEW").status_code == 404
        response = post(api, admin, ml21(codelist("CL_MT_NEW", "A", "B")))
        assert response.status_code == 201
        assert response.headers["location"].endswith(f"{STRUCTURE}/codelist/ILO/CL_MT_NEW/1.0")
        assert results(response) == [
            Result(
                "Append",
                "urn:sdmx:org.sdmx.infomodel.codelist.Codelist=ILO:CL_MT_NEW(1.0)",
                "Success",
                201,
                "Codelist ILO:CL_MT_NEW(1.0): created",
            )
        ]
        found = get_codelist(api, "CL_MT_NEW")
        assert found.status_code == 200
        assert code_ids(found) == ["A", "B"]

    def test_a_3_0_body_gets_a_3_0_response(self, api: TestClient, admin: dict[str, str]) -> None:
        body = ml30(codelist("CL_MT_30", "A", version="1.0.0-draft"))
        response = post(api, admin, body, content_type=ML30)
        assert response.status_code == 201
        [result] = results(response, "3.0")
        assert (
            result.urn == "urn:sdmx:org.sdmx.infomodel.codelist.Codelist=ILO:CL_MT_30(1.0.0-draft)"
        )
        assert code_ids(get_codelist(api, "CL_MT_30", "1.0.0-draft")) == ["A"]

    @pytest.mark.parametrize(
        ("accept", "version"), [(REG21, "2.1"), (ML21, "2.1"), (REG30, "3.0"), ("*/*", "3.0")]
    )
    def test_accept_chooses_the_response_version(
        self, api: TestClient, admin: dict[str, str], accept: str, version: str
    ) -> None:
        body = ml30(codelist(f"CL_MT_ACC_{version[0]}", "A", version="1.0.0-draft"))
        response = post(api, admin, body, content_type="application/xml", Accept=accept)
        assert response.status_code in (200, 201)
        assert results(response, version)[0].status == "Success"

    def test_references_may_resolve_within_the_message(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        enumeration = Ref(cls="Codelist", agency="ILO", id="CL_MT_REF", version="1.0")
        concept = Concept(
            id="C", names={"en": "C"}, core_representation=Representation(enumeration=enumeration)
        )
        scheme = ConceptScheme(
            agency="ILO", id="CS_MT_REF", names={"en": "x"}, is_final=False, items=(concept,)
        )
        response = post(api, admin, ml21(scheme, codelist("CL_MT_REF", "A")))
        assert response.status_code == 201
        assert [r.code for r in results(response)] == [201, 201]

    def test_post_under_a_type_takes_only_that_type(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        body = ml21(codelist("CL_MT_TYPED", "A"))
        wrong = post(api, admin, body, path=f"{STRUCTURE}/dataflow")
        assert wrong.status_code == 422
        assert [(r.status, r.code) for r in results(wrong)] == [("Failure", 422)]
        assert get_codelist(api, "CL_MT_TYPED").status_code == 404
        assert post(api, admin, body, path=f"{STRUCTURE}/codelist").status_code == 201

    def test_a_shipped_file_again_changes_nothing(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        body = (PROJECT_ROOT / "dsd" / "ILO_DSD_ILMS_STOCK_1.0.xml").read_bytes()
        response = post(api, admin, body)
        assert response.status_code == 200
        found = results(response)
        assert found
        assert {(r.action, r.status, r.code) for r in found} == {("Replace", "Success", 200)}
        assert all("unchanged" in r.text for r in found)


class TestAllOrNothing:
    def test_a_missing_reference_fails_the_whole_message(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        dsd = Ref(cls="DataStructure", agency="ILO", id="DSD_MT_NONE", version="1.0")
        flow = Dataflow(agency="ILO", id="DF_MT_BAD", names={"en": "x"}, structure=dsd)
        response = post(api, admin, ml21(codelist("CL_MT_ATOMIC", "A"), flow))
        assert response.status_code == 409
        by_code = {r.code: r for r in results(response)}
        assert set(by_code) == {409, 424}
        assert "DataStructure ILO:DSD_MT_NONE(1.0)" in by_code[409].text
        assert "CL_MT_ATOMIC" in by_code[424].urn
        assert get_codelist(api, "CL_MT_ATOMIC").status_code == 404

    def test_a_missing_item_is_a_missing_reference(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        scheme = category_scheme("CAS_MT_ITEM", "X")
        response = post(api, admin, ml21(scheme, categorisation("CAT_MT_ITEM", "CAS_MT_ITEM", "Z")))
        assert response.status_code == 409
        assert any("Category ILO:CAS_MT_ITEM(1.0).Z" in r.text for r in results(response))


class TestReplace:
    def test_put_replaces_a_draft_and_get_shows_it(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_PUT", "A", "B"))).status_code == 201
        assert code_ids(get_codelist(api, "CL_MT_PUT")) == ["A", "B"]  # cached
        response = api.put(
            f"{STRUCTURE}/codelist/ILO/CL_MT_PUT/1.0",
            content=ml21(codelist("CL_MT_PUT", "A", "C")),
            headers={**admin, "Content-Type": ML21},
        )
        assert response.status_code == 200
        assert [(r.action, r.status, r.code) for r in results(response)] == [
            ("Replace", "Success", 200)
        ]
        assert code_ids(get_codelist(api, "CL_MT_PUT")) == ["A", "C"]

    def test_put_of_a_new_version_is_404_and_post_creates_it(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_VER", "A"))).status_code == 201
        body = ml21(codelist("CL_MT_VER", "A", "B", version="1.1"))
        put = api.put(
            f"{STRUCTURE}/codelist/ILO/CL_MT_VER/1.1",
            content=body,
            headers={**admin, "Content-Type": ML21},
        )
        assert put.status_code == 404
        assert [(r.status, r.code) for r in results(put)] == [("Failure", 404)]
        assert post(api, admin, body).status_code == 201
        assert code_ids(get_codelist(api, "CL_MT_VER", "1.1")) == ["A", "B"]
        assert code_ids(get_codelist(api, "CL_MT_VER", "1.0")) == ["A"]

    def test_put_must_name_the_artefact_of_the_body(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_PATH", "A"))).status_code == 201
        response = api.put(
            f"{STRUCTURE}/codelist/ILO/CL_MT_PATH/1.0",
            content=ml21(codelist("CL_MT_OTHER", "A")),
            headers={**admin, "Content-Type": ML21},
        )
        assert response.status_code == 422
        assert results(response)[0].code == 422
        assert get_codelist(api, "CL_MT_OTHER").status_code == 404

    def test_put_path_without_wildcards(self, api: TestClient, admin: dict[str, str]) -> None:
        response = api.put(
            f"{STRUCTURE}/codelist/ILO/CL_MT_PATH/*",
            content=ml21(codelist("CL_MT_PATH", "A")),
            headers={**admin, "Content-Type": ML21},
        )
        assert response.status_code == 400
        assert error_code(response) == 140

    def test_a_final_artefact_is_immutable(self, api: TestClient, admin: dict[str, str]) -> None:
        original = ml21(codelist("CL_MT_FINAL", "A", final=True, name="Original"))
        assert post(api, admin, original).status_code == 201
        same = post(api, admin, original)
        assert same.status_code == 200
        [result] = results(same)
        assert (result.status, result.code) == ("Success", 200)
        assert "unchanged" in result.text
        changed = post(api, admin, ml21(codelist("CL_MT_FINAL", "A", final=True, name="New")))
        assert changed.status_code == 409
        [result] = results(changed)
        assert (result.action, result.status) == ("Replace", "Failure")
        assert "new version" in result.text
        assert names(get_codelist(api, "CL_MT_FINAL")) == ["Original"]

    def test_a_partial_item_scheme_updates_the_stored_one(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_PART", "A", "B"))).status_code == 201
        partial = codelist("CL_MT_PART", "B", "C", name="Renamed")
        body = ml21(partial).replace(b'id="CL_MT_PART"', b'id="CL_MT_PART" isPartial="true"', 1)
        response = post(api, admin, body)
        assert response.status_code == 200
        found = get_codelist(api, "CL_MT_PART")
        assert code_ids(found) == ["A", "B", "C"]
        assert names(found) == ["Renamed"]

    def test_dropping_an_item_in_use_is_409(self, api: TestClient, admin: dict[str, str]) -> None:
        scheme = category_scheme("CAS_MT_USED", "X", "Y")
        created = post(api, admin, ml21(scheme, categorisation("CAT_MT_USED", "CAS_MT_USED", "X")))
        assert created.status_code == 201
        response = post(api, admin, ml21(category_scheme("CAS_MT_USED", "Y")))
        assert response.status_code == 409
        [result] = results(response)
        assert "Categorisation ILO:CAT_MT_USED(1.0) uses Category X" in result.text


class TestDelete:
    def test_delete_removes_an_unreferenced_draft(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_DEL", "A"))).status_code == 201
        assert get_codelist(api, "CL_MT_DEL").status_code == 200  # cached
        path = f"{STRUCTURE}/codelist/ILO/CL_MT_DEL/1.0"
        response = api.delete(path, headers=admin)
        assert response.status_code == 200
        assert [(r.action, r.status, r.code) for r in results(response)] == [
            ("Delete", "Success", 200)
        ]
        assert get_codelist(api, "CL_MT_DEL").status_code == 404
        again = api.delete(path, headers=admin)
        assert again.status_code == 404
        assert results(again)[0].status == "Failure"

    def test_a_referenced_artefact_is_kept_and_its_referrers_named(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        response = api.delete(f"{STRUCTURE}/codelist/ILO/CL_SEX/1.0", headers=admin)
        assert response.status_code == 409
        [result] = results(response)
        for dsd in ("DSD_ILMS_STOCK", "DSD_ILMS_FLOW", "DSD_ILMS_ABROAD"):
            assert f"DataStructure ILO:{dsd}(1.0)" in result.text
        assert get_codelist(api, "CL_SEX").status_code == 200

    def test_a_referenced_draft_is_kept(self, api: TestClient, admin: dict[str, str]) -> None:
        scheme = category_scheme("CAS_MT_KEEP", "X")
        body = ml21(scheme, categorisation("CAT_MT_KEEP", "CAS_MT_KEEP", "X"))
        assert post(api, admin, body).status_code == 201
        response = api.delete(f"{STRUCTURE}/categoryscheme/ILO/CAS_MT_KEEP/1.0", headers=admin)
        assert response.status_code == 409
        assert "Categorisation ILO:CAT_MT_KEEP(1.0)" in results(response)[0].text

    def test_a_stable_artefact_is_kept(self, api: TestClient, admin: dict[str, str]) -> None:
        assert post(api, admin, ml21(codelist("CL_MT_STABLE", "A", final=True))).status_code == 201
        response = api.delete(f"{STRUCTURE}/codelist/ILO/CL_MT_STABLE/1.0", headers=admin)
        assert response.status_code == 409
        assert "final" in results(response)[0].text
        assert get_codelist(api, "CL_MT_STABLE").status_code == 200


class TestAuthorisation:
    CASES = [
        ("POST", STRUCTURE),
        ("PUT", f"{STRUCTURE}/codelist/ILO/CL_SEX/1.0"),
        ("DELETE", f"{STRUCTURE}/codelist/ILO/CL_SEX/1.0"),
    ]

    @pytest.mark.parametrize(("method", "path"), CASES)
    @pytest.mark.parametrize("authorization", [None, "Bearer ilms_nonsense", "Basic abc"])
    def test_without_a_valid_token_401(
        self, api: TestClient, method: str, path: str, authorization: str | None
    ) -> None:
        headers = {"Content-Type": ML21}
        if authorization:
            headers["Authorization"] = authorization
        response = api.request(method, path, content=ml21(codelist("CL_SEX", "X")), headers=headers)
        assert response.status_code == 401
        assert error_code(response) == 110

    @pytest.mark.parametrize(("method", "path"), CASES)
    def test_a_provider_token_403(
        self, api: TestClient, tokens: dict[str, str], method: str, path: str
    ) -> None:
        headers = {"Authorization": f"Bearer {tokens['provider']}", "Content-Type": ML21}
        response = api.request(method, path, content=ml21(codelist("CL_SEX", "X")), headers=headers)
        assert response.status_code == 403
        assert get_codelist(api, "CL_SEX").status_code == 200


class TestBadBodies:
    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/json", b'{"data": {"codelists": []}}'),
            ("text/plain", b"CL_X"),
            ("application/vnd.sdmx.structure+json;version=2.0.0", b"{}"),
            ("application/vnd.sdmx.structure+xml;version=1.0", b"<x/>"),
        ],
    )
    def test_other_media_types_415(
        self, api: TestClient, admin: dict[str, str], content_type: str, body: bytes
    ) -> None:
        response = post(api, admin, body, content_type=content_type)
        assert response.status_code == 415

    @pytest.mark.parametrize(
        "body",
        [
            b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><m>&lol;</m>',
            b"<message:Structure",
            b"",
            b'<Error xmlns="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"/>',
            b"<not-sdmx/>",
        ],
        ids=["dtd", "malformed", "empty", "not-a-structure-message", "not-sdmx"],
    )
    def test_unreadable_messages_400(
        self, api: TestClient, admin: dict[str, str], body: bytes
    ) -> None:
        response = post(api, admin, body)
        assert response.status_code == 400
        assert error_code(response) == 140

    def test_a_message_without_structures_400(self, api: TestClient, admin: dict[str, str]) -> None:
        assert post(api, admin, ml21()).status_code == 400

    def test_parts_the_service_cannot_store_422(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        hierarchy = (
            b"<structure:HierarchicalCodelists><structure:HierarchicalCodelist "
            b'id="HCL_MT" agencyID="ILO" version="1.0"><common:Name>h</common:Name>'
            b"</structure:HierarchicalCodelist></structure:HierarchicalCodelists>"
        )
        body = ml21(codelist("CL_MT_HCL", "A")).replace(
            b"</message:Structures>", hierarchy + b"</message:Structures>"
        )
        response = post(api, admin, body)
        assert response.status_code == 422
        assert "HierarchicalCodelist" in response.text
        assert get_codelist(api, "CL_MT_HCL").status_code == 404

    @pytest.mark.parametrize(
        "artefact",
        [codelist("CL MT", "A"), codelist("CL_MT_VER", "A", version="one")],
        ids=["id", "version"],
    )
    def test_ids_and_versions_outside_the_schema_400(
        self, api: TestClient, admin: dict[str, str], artefact: Codelist
    ) -> None:
        response = post(api, admin, ml21(artefact))
        assert response.status_code == 400
        assert "syntax" in response.text

    def test_a_3_0_version_outside_semantic_versioning_400(
        self, api: TestClient, admin: dict[str, str]
    ) -> None:
        body = ml30(codelist("CL_MT_SEMVER", "A", version="1.0-draft"))
        response = post(api, admin, body, content_type=ML30)
        assert response.status_code == 400
        assert get_codelist(api, "CL_MT_SEMVER", "1.0-draft").status_code in (400, 404)
