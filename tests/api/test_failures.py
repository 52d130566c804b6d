"""What clients see when the service itself fails: SDMX errors with CORS, never a bare page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from service.main import create_app
from service.settings import Settings
from service.storage.structures import StructureRepository


def test_unexpected_exception_is_an_sdmx_500_with_cors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: StructureRepository) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(StructureRepository, "state", broken)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", log_json=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/rest/codelist/ILO/CL_SEX", headers={"Origin": "https://a.org"})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == "*"
    error = etree.fromstring(response.content).find(".//{*}ErrorMessage")
    assert error is not None
    assert error.get("code") == "500"
    assert b"disk on fire" not in response.content  # internals stay in the log


def test_ready_is_503_on_an_unmigrated_store(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", log_json=False))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
    assert response.status_code == 503
    assert "ilms db upgrade" in response.json()["detail"]


def test_bad_database_url_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="ILMS_DATABASE_URL must start with"):
        Settings(database_url="mysql://root@localhost/x")


def test_one_structured_log_line_per_request(tmp_path: Path) -> None:
    import logging

    from service.logging_setup import JsonFormatter

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'log.db'}"))
    keep = Keep()
    logging.getLogger("ilms").addHandler(keep)
    try:
        with TestClient(app) as client:
            client.get("/health?probe=1", headers={"X-Request-ID": "abc123"})
            client.get("/no/such/page")
    finally:
        logging.getLogger("ilms").removeHandler(keep)
    access = [r for r in records if r.name == "ilms.access"]
    assert len(access) == 2
    line = json.loads(JsonFormatter().format(access[0]))
    assert line["path"] == "/health"
    assert line["query"] == "probe=1"
    assert line["status"] == 200
    assert line["request_id"] == "abc123"
    assert line["duration_ms"] >= 0
    assert json.loads(JsonFormatter().format(access[1]))["status"] == 404


def test_store_failure_is_503_service_unavailable(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unmigrated.db'}"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/rest/v2/structure/codelist/ILO/CL_SEX")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == 503


def test_reads_can_require_a_token(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from service.db import make_engine
    from service.storage.tokens import TokenRepository
    from tests.conftest import prepare

    settings = prepare(f"sqlite:///{tmp_path / 'private.db'}")
    with Session(make_engine(settings)) as session:
        token, _ = TokenRepository(session).create(provider="ILO:THA", is_admin=False)
        session.commit()
    private = settings.model_copy(update={"public_reads": False})
    with TestClient(create_app(private)) as client:
        anonymous = client.get("/rest/codelist/ILO/CL_SEX")
        known = client.get(
            "/rest/codelist/ILO/CL_SEX", headers={"Authorization": f"Bearer {token}"}
        )
    assert anonymous.status_code == 401
    assert known.status_code == 200
    with TestClient(create_app(settings)) as client:  # the default: public reads
        assert client.get("/rest/codelist/ILO/CL_SEX").status_code == 200
