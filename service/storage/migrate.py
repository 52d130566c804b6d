"""Run the Alembic migrations programmatically (``ilms db upgrade``, ``ilms serve``)."""

from __future__ import annotations

from alembic.config import Config
from sqlalchemy import Engine

from alembic import command
from service.settings import PROJECT_ROOT


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store behind ``engine`` to ``revision``. Idempotent."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
