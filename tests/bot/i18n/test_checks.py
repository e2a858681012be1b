"""Each catalog check catches the defect it is named for, and the real catalogs have none."""

from __future__ import annotations

from bot.i18n import Messages, checks

EN = {
    "command.settings.name": "settings",
    "command.settings.description": "Settings",
    "command.settings.show.name": "show",
    "command.settings.show.description": "Show",
    "command.settings.reset.name": "reset",
    "command.settings.reset.description": "Reset",
    "option.settings.reset.what.name": "what",
    "option.settings.reset.what.description": "What",
    "option.settings.reset.how.name": "how",
    "option.settings.reset.how.description": "How",
    "button.ok": "OK",
    "help.body": "Use `/settings show` or `/settings reset what: all`.",
}
GOOD_JA = {
    "command.settings.name": "設定",
    "command.settings.description": "設定",
    "command.settings.show.name": "表示",
    "command.settings.show.description": "表示",
    "command.settings.reset.name": "リセット",
    "command.settings.reset.description": "リセット",
    "option.settings.reset.what.name": "対象",
    "option.settings.reset.what.description": "対象",
    "option.settings.reset.how.name": "方法",
    "option.settings.reset.how.description": "方法",
    "button.ok": "OK",
    "help.body": "`/設定 表示` または `/設定 リセット 対象: all` を使います。",
}


def _with(**ja_changes: str) -> Messages:
    ja = {**GOOD_JA, **{k.replace("__", "."): v for k, v in ja_changes.items()}}
    complete = {locale: dict(EN) for locale in ("en-US", "zh-TW", "zh-CN")}
    return Messages({**complete, "ja": ja})


def test_a_clean_catalog_has_no_problems() -> None:
    """The baseline used below passes every check, so each failure is the one change made."""
    assert checks.all_problems(_with()) == []


def test_the_real_catalogs_have_no_problems() -> None:
    """The shipped locale files pass every check."""
    assert checks.all_problems(Messages.load()) == []


def test_missing_and_extra_keys_are_named() -> None:
    """A key missing from a translation, or one English lacks, is reported by name."""
    ja = dict(GOOD_JA)
    del ja["button.ok"]
    ja["button.okk"] = "OK"
    messages = Messages({"en-US": EN, "zh-TW": EN, "zh-CN": EN, "ja": ja})
    assert checks.missing_keys(messages) == ["ja: button.ok: missing (English: 'OK')"]
    assert checks.extra_keys(messages) == [
        "ja: button.okk: not in en-US (misspelled or no longer used?)"
    ]


def test_placeholder_mismatch_is_reported() -> None:
    """A translation with other placeholders than English is reported."""
    problems = checks.placeholder_problems(_with(button__ok="OK {count}"))
    assert problems == ["ja: button.ok: placeholders ['count'] but English has []"]


def test_invalid_localized_names_are_reported() -> None:
    """Spaces or capitals in a slash name, and over-long descriptions, are reported."""
    problems = checks.command_text_problems(
        _with(
            command__settings__show__name="Show Now",
            option__settings__reset__what__description="x" * 101,
        )
    )
    assert len(problems) == 2
    assert problems[0].startswith("ja: command.settings.show.name: 'Show Now'")
    assert problems[1].startswith("ja: option.settings.reset.what.description")


def test_sibling_clash_is_reported() -> None:
    """Two subcommands or two options of one parent sharing a name are reported."""
    problems = checks.sibling_name_clashes(
        _with(command__settings__reset__name="表示", option__settings__reset__how__name="対象")
    )
    assert problems == [
        "ja: command.settings.reset, command.settings.show: all named '表示'",
        "ja: option.settings.reset.how, option.settings.reset.what: all named '対象'",
    ]


def test_command_over_size_budget_is_reported() -> None:
    """A command whose texts exceed Discord's per-command budget is reported."""
    long = "x" * 100
    many = {f"option.settings.reset.o{i}.description": long for i in range(45)}
    many |= {f"option.settings.reset.o{i}.name": f"o{i}" for i in range(45)}
    catalog = {**EN, **many}
    messages = Messages({locale: catalog for locale in ("en-US", "zh-TW", "zh-CN", "ja")})
    problems = checks.command_size_problems(messages)
    assert len(problems) == 1 and problems[0].startswith("command settings: about")


def test_too_long_labels_are_reported() -> None:
    """A button label over Discord's 80 characters is reported."""
    problems = checks.length_problems(_with(button__ok="x" * 81))
    assert problems == ["ja: button.ok: 81 characters, button labels allow 80"]


def test_references_to_unknown_commands_or_options_are_reported() -> None:
    """A `/command` that doesn't exist in that language, or an unknown option, is reported."""
    problems = checks.command_reference_problems(
        _with(help__body="`/せってい 表示` と `/設定 リセット ほか: x` と `/settings show`")
    )
    assert problems == [
        "ja: help.body: `/せってい 表示`: 'せってい' is not a command name here",
        "ja: help.body: `/設定 リセット ほか: x`: 'ほか' is not an option of this command",
    ]
