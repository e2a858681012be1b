"""The READMEs cannot drift: the English and 繁體中文 ones have the same sections and settings,
the settings are those of .env.example and of the program, and the quick start is what CI runs."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from bot.edge.online_check import REQUIRED
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = (ROOT / "README.md").read_text(encoding="utf-8")
CHINESE = (ROOT / "README.zh-TW.md").read_text(encoding="utf-8")
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
QUICK_START = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m bot",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
)


def headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every heading outside fenced code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"^(#{1,6}) (.+)$", line)
        if match and not fenced:
            found.append((len(match.group(1)), match.group(2).strip()))
    return found


def settings_table(text: str) -> list[str]:
    """The setting names of the table whose rows all start with `UPPER_CASE` names, in order."""
    tables: list[list[str]] = []
    rows: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if rows:
            first = [r.split("|")[1].strip() for r in rows[2:]]
            if first and all(NAME.match(cell) for cell in first):
                tables.append([name for cell in first for name in NAME.findall(cell)])
            rows = []
    assert len(tables) == 1, f"expected one settings table, found {len(tables)}"
    return tables[0]


def env_example() -> list[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return [m.group(1) for ln in lines if (m := re.match(r"^([A-Z][A-Z0-9_]+)=", ln))]


def test_both_readmes_have_the_same_sections() -> None:
    """Heading for heading, at the same level; numbers and `code` in a title appear in both."""
    english, chinese = headings(ENGLISH), headings(CHINESE)
    assert [level for level, _ in english] == [level for level, _ in chinese], (
        [title for _, title in english],
        [title for _, title in chinese],
    )
    for (_, en), (_, zh) in zip(english, chinese, strict=True):
        for token in re.findall(r"`[^`]+`|\b\d+\b", en):
            assert token in zh, f"{en!r} ↔ {zh!r}: {token} missing"


def test_both_readmes_list_the_same_settings_in_the_same_order() -> None:
    """The settings tables name the same settings, row for row."""
    assert settings_table(ENGLISH) == settings_table(CHINESE)


def test_the_settings_table_is_env_example_and_the_program() -> None:
    """Every setting in .env.example is in the table and vice versa; the program reads them all."""
    table = settings_table(ENGLISH)
    assert len(table) == len(set(table))
    assert set(table) == set(env_example())
    assert {f.name.upper() for f in fields(Settings)} <= set(table)


def test_the_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    """Both READMEs show the two commands; .ci/run installs `.[test]` and runs `python -m pytest`."""
    for readme in (ENGLISH, CHINESE):
        blocks = re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
        for command in QUICK_START:
            assert command + "\n" in blocks, command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^python -m pip install --quiet -e '\.\[test\]'$", ci, re.MULTILINE)
    assert re.search(r"^python -m pytest$", ci, re.MULTILINE)


def test_the_invite_url_asks_for_what_the_bot_checks() -> None:
    """The READMEs' invite URL carries the permissions `check --online` requires (117760)."""
    for readme in (ENGLISH, CHINESE):
        values = set(re.findall(r"permissions=(\d+)", readme))
        assert values == {str(REQUIRED.value)}


def test_the_pictures_the_readmes_show_exist() -> None:
    """Every image either README shows is in the repository, each in its own language."""
    for readme, locale in ((ENGLISH, "en-US"), (CHINESE, "zh-TW")):
        sources = re.findall(r'<img src="([^"]+)"|!\[[^\]]*\]\(([^)]+)\)', readme)
        paths = [a or b for a, b in sources]
        assert any(f"pictures/{locale}/" in p for p in paths)
        other = "zh-TW" if locale == "en-US" else "en-US"
        assert not any(f"pictures/{other}/" in p for p in paths)
        for path in paths:
            assert (ROOT / path).is_file(), path
