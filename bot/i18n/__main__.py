"""Translator tools: ``python -m bot.i18n check`` and ``python -m bot.i18n format``.

check   lists every missing key, placeholder mismatch, name Discord would refuse, too-long
        text and unsorted file; exits 1 when there is anything to fix.
format  rewrites the locale files in the canonical form (sorted keys, two-space indent).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.i18n.checks import all_problems
from bot.i18n.locale import SUPPORTED_LOCALES
from bot.i18n.messages import (
    LOCALES_DIR,
    CatalogError,
    Messages,
    canonical_json,
    read_catalog_file,
)


def _locale_files(directory: Path) -> list[Path]:
    return [
        directory / f"{locale}.json"
        for locale in SUPPORTED_LOCALES
        if (directory / f"{locale}.json").is_file()
    ]


def check(directory: Path) -> list[str]:
    """Every problem in the locale files of a directory, as lines to print."""
    lines: list[str] = []
    for path in _locale_files(directory):
        if path.read_text(encoding="utf-8") != canonical_json(read_catalog_file(path)):
            lines.append(f"{path.name}: not in canonical form; run: python -m bot.i18n format")
    return lines + all_problems(Messages.load(directory))


def format_files(directory: Path) -> list[Path]:
    """Rewrite each locale file canonically; returns the files that changed."""
    changed: list[Path] = []
    for path in _locale_files(directory):
        text = canonical_json(read_catalog_file(path))
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n", description=__doc__)
    parser.add_argument("action", choices=("check", "format"))
    parser.add_argument("--dir", type=Path, default=LOCALES_DIR, help="folder of <locale>.json")
    args = parser.parse_args(argv)
    try:
        if args.action == "format":
            for path in format_files(args.dir):
                print(f"formatted {path}")
            return 0
        problems = check(args.dir)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("All locale files are complete and valid.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
