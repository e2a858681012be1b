"""`python -m bot.i18n check` finds what a translator must fix; `format` fixes the layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.i18n import LOCALES_DIR
from bot.i18n.__main__ import main


def _copy_locales(tmp_path: Path) -> Path:
    for path in LOCALES_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_check_passes_on_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped catalogs check clean, exit status 0."""
    assert main(["check"]) == 0
    assert "complete and valid" in capsys.readouterr().out


def test_check_names_a_missing_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Removing a key from one translation makes check fail and name that key."""
    folder = _copy_locales(tmp_path)
    path = folder / "ja.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["button.cancel"]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")
    assert main(["check", "--dir", str(folder)]) == 1
    assert "ja: button.cancel: missing" in capsys.readouterr().out


def test_format_makes_files_canonical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unsorted file fails check, and format rewrites it so check passes again."""
    folder = _copy_locales(tmp_path)
    path = folder / "zh-TW.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(reversed(list(data.items()))), ensure_ascii=True), "utf-8")
    assert main(["check", "--dir", str(folder)]) == 1
    assert "zh-TW.json: not in canonical form" in capsys.readouterr().out
    assert main(["format", "--dir", str(folder)]) == 0
    assert main(["check", "--dir", str(folder)]) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_broken_json_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not JSON gives one line naming the file, not a traceback."""
    folder = _copy_locales(tmp_path)
    (folder / "en-US.json").write_text("{oops", encoding="utf-8")
    assert main(["check", "--dir", str(folder)]) == 1
    assert "en-US.json: not valid JSON" in capsys.readouterr().err
