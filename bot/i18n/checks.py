"""Catalog checks shared by the tests and ``python -m bot.i18n check``.

Each check returns readable problem lines ("zh-TW: command.help.name: ...") so a translator
sees exactly which key to fix, and an empty list when all is well.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from bot.i18n.command_names import (
    is_valid_choice_name,
    is_valid_context_menu_name,
    is_valid_description,
    is_valid_slash_name,
)
from bot.i18n.locale import DEFAULT_LOCALE, SUPPORTED_LOCALES
from bot.i18n.messages import Messages

# Discord counts name + description of a command, its subcommands, options and choices
# (the longest localization of each) against one budget per top-level command.
COMMAND_SIZE_LIMIT = 4000

# Discord's limits for the places these texts end up, by key prefix/suffix.
_MESSAGE_LIMIT = 2000  # message content
_LENGTH_RULES: tuple[tuple[Callable[[str], bool], int, str], ...] = (
    (lambda key: key.startswith("button."), 80, "button labels"),
    (lambda key: key.startswith("modal.") and key.endswith(".title"), 45, "modal titles"),
    (lambda key: key.startswith("modal.") and key.endswith("_label"), 45, "text input labels"),
    (lambda key: key.startswith("modal.") and key.endswith("_placeholder"), 100, "placeholders"),
    (lambda key: key.endswith(".title"), 256, "embed titles"),
    (lambda key: key.startswith("help.") and key.endswith(".body"), 1024, "embed field values"),
)

_COMMAND_REFERENCE = re.compile(r"`/([^`]+)`")


def missing_keys(messages: Messages) -> list[str]:
    """Keys English has and another locale lacks."""
    return [
        f"{locale}: {key}: missing (English: {messages.template(DEFAULT_LOCALE, key)!r})"
        for locale, keys in messages.missing().items()
        for key in sorted(keys)
    ]


def extra_keys(messages: Messages) -> list[str]:
    """Keys a locale has that English does not: misspelled or stale."""
    return [
        f"{locale}: {key}: not in en-US (misspelled or no longer used?)"
        for locale, keys in messages.extra().items()
        for key in sorted(keys)
    ]


def placeholder_problems(messages: Messages) -> list[str]:
    """Templates whose placeholders differ from English, or that could not be loaded."""
    lines = list(messages.problems)
    for locale, key, english, local in messages.placeholder_mismatches():
        lines.append(
            f"{locale}: {key}: placeholders {sorted(local)} but English has {sorted(english)}"
        )
    return lines


def command_text_problems(messages: Messages) -> list[str]:
    """Command, option, menu and choice texts Discord would refuse at sync."""
    lines: list[str] = []
    for locale in SUPPORTED_LOCALES:
        for key in sorted(messages.keys(locale)):
            text = messages.template(locale, key) or ""
            if key.startswith(("command.", "option.")) and key.endswith(".name"):
                if not is_valid_slash_name(text):
                    lines.append(
                        f"{locale}: {key}: {text!r} is not a valid command name "
                        "(lowercase letters, digits, - or _, 1-32 characters, no spaces)"
                    )
            elif key.startswith(("command.", "option.")) and key.endswith(".description"):
                if not is_valid_description(text):
                    lines.append(f"{locale}: {key}: descriptions must be 1-100 characters")
            elif key.startswith("menu.") and key.endswith(".name"):
                if not is_valid_context_menu_name(text):
                    lines.append(f"{locale}: {key}: menu names must be 1-32 characters")
            elif key.startswith("choice.") and not is_valid_choice_name(text):
                lines.append(f"{locale}: {key}: choice names must be 1-100 characters")
    return lines


def _command_paths(messages: Messages, locale: str) -> dict[tuple[str, ...], str]:
    """Command path (("settings", "channels")) -> its name in the locale."""
    paths: dict[tuple[str, ...], str] = {}
    for key in messages.keys(locale):
        if key.startswith("command.") and key.endswith(".name"):
            paths[tuple(key.split(".")[1:-1])] = messages.template(locale, key) or ""
    return paths


def _option_names(messages: Messages, locale: str) -> dict[tuple[str, ...], dict[str, str]]:
    """Command path -> {option key segment: option name in the locale}."""
    options: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)
    for key in messages.keys(locale):
        if key.startswith("option.") and key.endswith(".name"):
            *path, option = key.split(".")[1:-1]
            options[tuple(path)][option] = messages.template(locale, key) or ""
    return options


def sibling_name_clashes(messages: Messages) -> list[str]:
    """Two subcommands or options of one parent with the same name in one locale."""
    lines: list[str] = []
    for locale in SUPPORTED_LOCALES:
        by_parent: dict[tuple[str, ...], dict[str, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for path, name in _command_paths(messages, locale).items():
            by_parent[path[:-1]][name].append("command." + ".".join(path))
        for path, options in _option_names(messages, locale).items():
            for option, name in options.items():
                by_parent[path][name].append("option." + ".".join((*path, option)))
        for names in by_parent.values():
            for name, owners in sorted(names.items()):
                if len(owners) > 1:
                    lines.append(f"{locale}: {', '.join(sorted(owners))}: all named {name!r}")
    return lines


def command_size_problems(messages: Messages) -> list[str]:
    """Top-level commands whose texts exceed Discord's per-command character budget."""
    sizes: dict[str, int] = defaultdict(int)
    english = messages.keys(DEFAULT_LOCALE)

    def longest(key: str) -> int:
        return max(len(messages.template(locale, key) or "") for locale in SUPPORTED_LOCALES)

    for key in english:
        parts = key.split(".")
        if parts[0] in ("command", "option") and len(parts) >= 3:
            sizes[parts[1]] += longest(key)
            # Shared choice lists (choice.aspect_ratio.*) count for every option using them.
            if parts[0] == "option" and parts[-1] == "name":
                shared = f"choice.{parts[-2]}."
                sizes[parts[1]] += sum(longest(k) for k in english if k.startswith(shared))
        elif parts[0] == "choice" and len(parts) >= 4 and f"command.{parts[1]}.name" in english:
            sizes[parts[1]] += longest(key)
    return [
        f"command {command}: about {size} characters of names and descriptions, "
        f"over Discord's {COMMAND_SIZE_LIMIT}"
        for command, size in sorted(sizes.items())
        if size > COMMAND_SIZE_LIMIT
    ]


def length_problems(messages: Messages) -> list[str]:
    """Texts longer than the Discord field they are shown in."""
    lines: list[str] = []
    for locale in SUPPORTED_LOCALES:
        for key in sorted(messages.keys(locale)):
            text = messages.template(locale, key) or ""
            limit, what = _MESSAGE_LIMIT, "message content"
            for applies, rule_limit, rule_what in _LENGTH_RULES:
                if applies(key):
                    limit, what = rule_limit, rule_what
                    break
            if len(text) > limit:
                lines.append(f"{locale}: {key}: {len(text)} characters, {what} allow {limit}")
    return lines


def command_reference_problems(messages: Messages) -> list[str]:
    """Backticked commands (`/設定 頻道 新增`) that don't name real commands in that locale.

    Text refers to commands by their localized names, which is what the reader's client
    shows; this keeps that true when a translator renames a command. A reference may stop
    at a group (`/settings`); option names written as `name:` must belong to the command.
    """
    lines: list[str] = []
    english_paths = _command_paths(messages, DEFAULT_LOCALE)
    english_options = _option_names(messages, DEFAULT_LOCALE)
    for locale in SUPPORTED_LOCALES:
        paths = _command_paths(messages, locale)
        options = _option_names(messages, locale)
        for key in sorted(messages.keys(locale)):
            for reference in _COMMAND_REFERENCE.findall(messages.template(locale, key) or ""):
                problem = _resolve_reference(
                    reference.split(), paths, english_paths, options, english_options
                )
                if problem:
                    lines.append(f"{locale}: {key}: `/{reference}`: {problem}")
    return lines


def _resolve_reference(
    tokens: list[str],
    paths: dict[tuple[str, ...], str],
    english_paths: dict[tuple[str, ...], str],
    options: dict[tuple[str, ...], dict[str, str]],
    english_options: dict[tuple[str, ...], dict[str, str]],
) -> str | None:
    current: tuple[str, ...] = ()
    rest = list(tokens)
    while rest:
        children = {
            path: {paths.get(path), english_paths.get(path)}
            for path in english_paths
            if len(path) == len(current) + 1 and path[: len(current)] == current
        }
        if not children:
            break
        token = rest.pop(0)
        matches = [path for path, names in children.items() if token in names]
        if not matches:
            return f"{token!r} is not a command name here"
        current = matches[0]
    if not current:
        return "no command named"
    allowed = set(options.get(current, {}).values()) | set(
        english_options.get(current, {}).values()
    )
    for token in rest:
        if token.endswith(":") and token[:-1] not in allowed:
            return f"{token[:-1]!r} is not an option of this command"
    return None


def all_problems(messages: Messages) -> list[str]:
    """Every check above, in a stable order."""
    return [
        *missing_keys(messages),
        *extra_keys(messages),
        *placeholder_problems(messages),
        *command_text_problems(messages),
        *sibling_name_clashes(messages),
        *command_size_problems(messages),
        *length_problems(messages),
        *command_reference_problems(messages),
    ]
