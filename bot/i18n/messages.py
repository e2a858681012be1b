"""Every user-facing sentence, loaded once from the locale files and looked up with fallbacks.

The files are flat JSON objects: dotted key -> template with ``{name}`` placeholders (see
locales/README.md). Lookups never raise: a user should get a slightly worse sentence, never
an interaction that fails because a translation has a typo.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n.locale import DEFAULT_LOCALE, SUPPORTED_LOCALES, resolve_locale

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).with_name("locales")
META_PREFIX = "_"  # keys such as "_meta" are notes for translators, not messages

_FORMATTER = string.Formatter()


class CatalogError(ValueError):
    """A locale file cannot be used at all: unreadable, not JSON, not a flat string map."""


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields a template uses. Raises ValueError when braces are unbalanced."""
    return {field for _, field, _, _ in _FORMATTER.parse(template) if field is not None}


def template_problem(template: str) -> str | None:
    """Why a template is unusable, or None. Only bare ``{identifier}`` fields are allowed."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        return f"unbalanced braces ({exc}); write a literal brace as {{{{ or }}}}"
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            return f"placeholder {{{field}}} must be a name such as {{limit}}"
        if spec or conversion:
            return f"placeholder {{{field}}} must not have a format spec or conversion"
    return None


def canonical_json(catalog: Mapping[str, str]) -> str:
    """The one way a locale file is written: sorted keys, two-space indent, real characters.

    One canonical form keeps diffs small when several people add keys at once.
    """
    return json.dumps(dict(catalog), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def read_catalog_file(path: Path) -> dict[str, str]:
    """One locale file as a dict, including ``_`` notes. Raises CatalogError, naming the file."""

    def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise CatalogError(f"{path.name}: the key {key!r} appears twice")
            seen[key] = value
        return seen

    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path.name}: not valid JSON ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: cannot be read ({exc})") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: must be one JSON object of key -> text")
    for key, value in data.items():
        if not isinstance(value, str):
            raise CatalogError(f"{path.name}: the value of {key!r} must be text, not nested data")
    return data


class _KeepMissing(dict[str, Any]):
    """format_map helper that leaves unknown placeholders as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class BoundMessages:
    """Messages for one locale, so rendering code can say ``text("button.cancel")``."""

    messages: Messages
    locale: str

    def __call__(self, key: str, **params: Any) -> str:
        return self.messages.t(self.locale, key, **params)


class Messages:
    """The loaded catalogs of every supported locale."""

    def __init__(self, catalogs: Mapping[str, Mapping[str, str]]) -> None:
        """Keep the given catalogs (locale -> key -> template), dropping unusable templates.

        A template with broken placeholders is left out, so lookups fall back to English,
        and is listed in ``problems`` (the tests and ``python -m bot.i18n check`` report it).
        """
        self.problems: list[str] = []
        self._catalogs: dict[str, dict[str, str]] = {}
        for locale in SUPPORTED_LOCALES:
            kept: dict[str, str] = {}
            for key, template in catalogs.get(locale, {}).items():
                if key.startswith(META_PREFIX):
                    continue
                problem = template_problem(template)
                if problem is not None:
                    self.problems.append(f"{locale}: {key}: {problem}")
                    log.warning("Ignoring translation %s in %s: %s", key, locale, problem)
                    continue
                kept[key] = template
            self._catalogs[locale] = kept
        self._warned: set[tuple[str, str, str]] = set()

    @classmethod
    def load(cls, directory: Path | None = None) -> Messages:
        """Read ``<locale>.json`` for every supported locale from the directory (default: ours).

        English is required, since it is every other locale's fallback; a missing file for
        another locale only costs a warning, its users read English.
        """
        folder = directory if directory is not None else LOCALES_DIR
        catalogs: dict[str, dict[str, str]] = {}
        for locale in SUPPORTED_LOCALES:
            path = folder / f"{locale}.json"
            if not path.is_file():
                if locale == DEFAULT_LOCALE:
                    raise CatalogError(f"{path}: the English catalog is missing")
                log.warning("No catalog for %s at %s; its users will read English", locale, path)
                continue
            catalogs[locale] = read_catalog_file(path)
        return cls(catalogs)

    @property
    def locales(self) -> tuple[str, ...]:
        return SUPPORTED_LOCALES

    def bind(self, locale: str) -> BoundMessages:
        """A callable that renders keys in one locale."""
        return BoundMessages(self, self._catalog_locale(locale))

    def t(self, locale: str, key: str, **params: Any) -> str:
        """The text for a key in a locale, with ``params`` filled in. Never raises.

        Missing in the locale: English. Missing everywhere: the key itself (warned once).
        A template that cannot be filled (a missing param, a value that cannot format):
        English instead, and failing that the template with what could be filled.
        """
        locale = self._catalog_locale(locale)
        template = self._catalogs[locale].get(key)
        if template is None:
            template = self._catalogs[DEFAULT_LOCALE].get(key)
            if template is None:
                self._warn_once("missing", DEFAULT_LOCALE, key)
                return key
            locale = DEFAULT_LOCALE

        formatted = self._format(locale, key, template, params)
        if formatted is not None:
            return formatted
        if locale != DEFAULT_LOCALE:
            english = self._catalogs[DEFAULT_LOCALE].get(key)
            if english is not None:
                formatted = self._format(DEFAULT_LOCALE, key, english, params)
                if formatted is not None:
                    return formatted
        try:
            return template.format_map(_KeepMissing(params))
        except Exception:
            return template

    def has(self, locale: str, key: str) -> bool:
        """Whether this very locale has its own text for the key (no fallback)."""
        return key in self._catalogs[self._catalog_locale(locale)]

    def template(self, locale: str, key: str) -> str | None:
        """The raw template of this very locale, or None."""
        return self._catalogs[self._catalog_locale(locale)].get(key)

    def keys(self, locale: str) -> set[str]:
        return set(self._catalogs[self._catalog_locale(locale)])

    def missing(self) -> dict[str, set[str]]:
        """Per locale: the English keys it has no text for (English itself: always empty)."""
        english = self._catalogs[DEFAULT_LOCALE].keys()
        return {
            locale: set(english - self._catalogs[locale].keys()) for locale in SUPPORTED_LOCALES
        }

    def extra(self) -> dict[str, set[str]]:
        """Per locale: keys that English does not have (stale or misspelled keys)."""
        english = self._catalogs[DEFAULT_LOCALE].keys()
        return {
            locale: set(self._catalogs[locale].keys() - english) for locale in SUPPORTED_LOCALES
        }

    def placeholder_mismatches(self) -> list[tuple[str, str, set[str], set[str]]]:
        """(locale, key, English placeholders, that locale's placeholders) wherever they differ."""
        found: list[tuple[str, str, set[str], set[str]]] = []
        english = self._catalogs[DEFAULT_LOCALE]
        for locale in SUPPORTED_LOCALES:
            if locale == DEFAULT_LOCALE:
                continue
            for key in sorted(english.keys() & self._catalogs[locale].keys()):
                expected = placeholders(english[key])
                actual = placeholders(self._catalogs[locale][key])
                if expected != actual:
                    found.append((locale, key, expected, actual))
        return found

    def _catalog_locale(self, locale: str) -> str:
        return locale if locale in self._catalogs else resolve_locale(locale)

    def _format(
        self, locale: str, key: str, template: str, params: Mapping[str, Any]
    ) -> str | None:
        try:
            return template.format_map(params)
        # Any exception: a caller's value whose __format__ or __str__ raises must not turn a
        # finished image into a failed interaction.
        except Exception as exc:
            self._warn_once("format", locale, key, f"{type(exc).__name__}: {exc}")
            return None

    def _warn_once(self, kind: str, locale: str, key: str, detail: str = "") -> None:
        """Log a catalog defect once per process, so a hot path cannot flood the log."""
        marker = (kind, locale, key)
        if marker in self._warned:
            return
        self._warned.add(marker)
        if kind == "missing":
            log.warning("No text for key %s in any locale", key)
        else:
            log.warning("Cannot fill text %s in %s (%s)", key, locale, detail)
