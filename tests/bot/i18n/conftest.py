"""Shared fixtures: the real catalogs, and a writer for small catalogs in a temp folder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from bot.i18n import Messages


@pytest.fixture(scope="session")
def messages() -> Messages:
    return Messages.load()


CatalogWriter = Callable[[Mapping[str, Mapping[str, str]]], Path]


@pytest.fixture
def write_catalogs(tmp_path: Path) -> CatalogWriter:
    def write(catalogs: Mapping[str, Mapping[str, str]]) -> Path:
        for locale, entries in catalogs.items():
            (tmp_path / f"{locale}.json").write_text(
                json.dumps(dict(entries), ensure_ascii=False), encoding="utf-8"
            )
        return tmp_path

    return write
