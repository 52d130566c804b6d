"""What the tests of the exports PostgreSQL writes (``csv_export``, ``ss_export``,
``json_export``) share: stores where PostgreSQL writes every such export and no answer is kept,
a spy on each query's choice of path, and both paths' answers to one query."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from service.settings import Settings
from tests.api.upload_helpers import Env, fresh_settings


def export_settings(tmp_path: Path, suffix: str, **update: Any) -> Settings:
    """A fresh PostgreSQL store (skipped without one) where PostgreSQL writes every plain
    export, however small, and that keeps no data answers: a kept answer would serve the
    second of two identical queries without reaching the path under test."""
    settings = fresh_settings("postgres", tmp_path, suffix)
    return settings.model_copy(
        update={"data_cache_bytes": 0, "export_min_observations": 0, **update}
    )


def spy_on_applies(
    monkeypatch: pytest.MonkeyPatch,
    module: ModuleType,
    applies: Callable[..., bool] | None = None,
) -> list[bool]:
    """What ``module.applies`` (or ``applies``, its original) answers, query after query."""
    used: list[bool] = []
    choose = applies or module.applies

    def spy(*args: Any) -> bool:
        used.append(choose(*args))
        return used[-1]

    monkeypatch.setattr(module, "applies", spy)
    return used


def both_paths(
    env: Env, monkeypatch: pytest.MonkeyPatch, module: ModuleType, url: str, accept: str
) -> tuple[bytes, bytes]:
    """``url``'s answer written by PostgreSQL, then the general path's (``module.applies``
    made to say no), each asserted to come from the path it is said to."""
    used = spy_on_applies(monkeypatch, module)
    fast = env.client.get(url, headers={"Accept": accept})
    assert fast.status_code == 200, fast.text[:500]
    assert used == [True]

    def general_path(*args: Any) -> bool:
        used.append(False)
        return False

    monkeypatch.setattr(module, "applies", general_path)
    general = env.client.get(url, headers={"Accept": accept})
    assert general.status_code == 200
    assert used == [True, False], "the general path answered the second query"
    return fast.content, general.content
