"""The catalogs are complete in four languages, and lookups fall back instead of failing."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from bot.i18n import (
    LOCALES_DIR,
    SUPPORTED_LOCALES,
    CatalogError,
    Messages,
    canonical_json,
    checks,
    is_valid_choice_name,
    is_valid_context_menu_name,
    is_valid_slash_name,
    resolve_locale,
)
from tests.bot.i18n.conftest import CatalogWriter

# Every slash command, subcommand and option of DESIGN.md's command table, as key paths.
COMMANDS = [
    "imagine",
    "edit",
    "models",
    "jobs",
    "show",
    "usage",
    "usage.me",
    "usage.server",
    "usage.export",
    "settings",
    "settings.show",
    "settings.channels",
    "settings.channels.add",
    "settings.channels.remove",
    "settings.channels.clear",
    "settings.roles",
    "settings.roles.add",
    "settings.roles.remove",
    "settings.roles.clear",
    "settings.limit",
    "settings.blocked_terms",
    "settings.blocked_terms.add",
    "settings.blocked_terms.remove",
    "settings.blocked_terms.list",
    "settings.nsfw",
    "settings.log_channel",
    "settings.log_channel.set",
    "settings.log_channel.clear",
    "settings.default_model",
    "settings.block",
    "settings.unblock",
    "settings.style",
    "settings.style.add",
    "settings.style.remove",
    "settings.style.list",
    "settings.spoiler",
    "settings.spoiler.on",
    "settings.spoiler.off",
    "settings.spoiler.nsfw_only",
    "prefs",
    "prefs.show",
    "prefs.set",
    "prefs.reset",
    "forget_me",
    "help",
]
OPTIONS = [
    *(
        f"imagine.{o}"
        for o in ("prompt", "model", "aspect_ratio", "count", "seed", "format", "quality", "extra")
    ),
    "imagine.style",
    "imagine.spoiler",
    *(f"edit.{o}" for o in ("image", "prompt", "model", "aspect_ratio", "seed", "format")),
    "edit.spoiler",
    "blend.spoiler",
    *(f"prefs.set.{o}" for o in ("model", "aspect_ratio", "format", "quality", "count", "suffix")),
    "prefs.reset.setting",
    *(f"settings.style.add.{o}" for o in ("name", "template", "model", "aspect_ratio")),
    "settings.style.remove.name",
    "show.job",
    "usage.me.days",
    "usage.server.days",
    "usage.export.days",
    "settings.channels.add.channel",
    "settings.channels.remove.channel",
    "settings.roles.add.role",
    "settings.roles.remove.role",
    "settings.limit.kind",
    "settings.limit.value",
    "settings.limit.role",
    "settings.blocked_terms.add.term",
    "settings.blocked_terms.remove.term",
    "settings.nsfw.policy",
    "settings.log_channel.set.channel",
    "settings.default_model.model",
    "settings.block.user",
    "settings.unblock.user",
]
# Key -> the placeholders the callers fill in (from the brief and the code that uses them).
REQUIRED_TEXT: dict[str, set[str]] = {
    "menu.edit_image.name": set(),
    "choice.settings.limit.kind.user_daily": set(),
    "choice.settings.limit.kind.guild_daily": set(),
    "choice.settings.limit.kind.cooldown": set(),
    "choice.settings.limit.kind.active_jobs": set(),
    "choice.settings.nsfw.policy.allow": set(),
    "choice.settings.nsfw.policy.deny": set(),
    "choice.aspect_ratio.match_input_image": set(),
    "status.queued": {"position"},
    "status.starting": set(),
    "status.processing": {"percent"},
    "status.processing_no_progress": set(),
    "status.delivering": set(),
    "status.succeeded": set(),
    "status.canceled": set(),
    "status.timed_out": set(),
    "status.expired": set(),
    "status.failed": set(),
    "pending.title": set(),
    "pending.elapsed": {"seconds"},
    "pending.model": set(),
    "pending.prompt": set(),
    **{
        f"button.{b}": set()
        for b in ("cancel", "reroll", "edit", "info", "delete", "block_user", "confirm", "keep")
    },
    "modal.edit.title": set(),
    "modal.edit.prompt_label": set(),
    "modal.edit.prompt_placeholder": set(),
    "result.title": set(),
    "result.model": set(),
    "result.prompt": set(),
    "result.seed": set(),
    "result.time": {"seconds"},
    "result.requested_by": set(),
    "result.parent": set(),
    "error.invalid_input": {"reason"},
    "error.safety": set(),
    "error.model_unavailable": {"model"},
    "error.no_credit": set(),
    "error.not_configured": set(),
    "error.auth_admin": set(),
    "error.forbidden": set(),
    "error.rate_limited": set(),
    "error.provider": set(),
    "error.network": set(),
    "error.timed_out": {"minutes"},
    "error.canceled": set(),
    "error.canceled_provider_may_finish": set(),
    "error.expired": set(),
    "error.download": set(),
    "error.too_large_to_upload": set(),
    "error.delivery_failed": set(),
    "error.unknown": {"error_id"},
    "error.interaction_failed": set(),
    "refusal.user_daily_limit": {"limit", "used", "reset"},
    "refusal.guild_daily_limit": {"limit", "used", "reset"},
    "refusal.cooldown": {"retry"},
    "refusal.active_jobs": {"limit"},
    "refusal.global_queue_full": set(),
    "refusal.channel_not_allowed": {"channels"},
    "refusal.role_not_allowed": {"roles"},
    "refusal.blocked_term": set(),
    "refusal.user_blocked": set(),
    "refusal.not_requester": set(),
    "refusal.not_moderator": set(),
    "refusal.manage_server_required": set(),
    "refusal.attachment_not_image": set(),
    "refusal.attachment_too_large": {"max_mb"},
    "refusal.no_image_in_message": set(),
    "refusal.job_not_found": set(),
    "refusal.job_finished": set(),
    "validation.empty_prompt": set(),
    "validation.prompt_too_long": {"max"},
    "validation.option_not_accepted": {"option", "model"},
    "validation.not_in_choices": {"field", "allowed"},
    "validation.out_of_range": {"field", "min", "max"},
    "validation.not_multiple": {"field", "multiple"},
    "validation.wrong_type": {"field", "expected"},
    "validation.unknown_extra_field": {"field", "allowed"},
    "validation.extra_syntax": {"detail"},
    "validation.not_user_controllable": {"field"},
    "validation.extra_conflicts_option": {"field"},
    "validation.requires": {"field", "requirement"},
    "validation.count_unsupported": {"model"},
    "validation.unknown_model": {"model"},
    "jobs.none": set(),
    "jobs.line": {"job_id", "status", "elapsed", "model"},
    "forget_me.confirm": set(),
    "forget_me.done": {"jobs"},
    "help.title": set(),
    "help.intro": set(),
    "log.generation": {"user", "channel"},
    "delivery.new_message": {"mention"},
    "delivery.dm_fallback": {"channel"},
    "settings.channels.added": {"channel"},
    "settings.roles.added": {"role"},
    "settings.limit.updated": {"limit", "value"},
    "usage.export.done": {"since", "rows"},
    # Costs and budgets (#21): every sentence in all four languages, with these placeholders.
    "refusal.member_monthly_budget": {"budget", "spent", "cost", "reset_day"},
    "refusal.guild_monthly_budget": {"budget", "spent", "cost", "reset_day"},
    "refusal.bot_monthly_budget": {"reset_day"},
    "refusal.budget_unpriced": {"model"},
    "log.budget_80": {"percent", "spent", "budget", "reset"},
    "log.budget_100": {"spent", "budget", "reset"},
    "log.budget_unpriced": {"model"},
    "settings.budget.monthly_set": {"amount", "spent"},
    "settings.budget.member_set": {"amount"},
    "settings.budget.above_operator": {"max"},
    "settings.budget.above_server": {"max"},
    "settings.budget.unpriced": {"models"},
    "usage.spend_today": {"amount"},
    "usage.spend_month": {"amount"},
    "usage.spend_budget": {"spent", "budget", "reset"},
    "usage.amount_unknown": {"amount", "count"},
    "usage.amount_all_unknown": {"count"},
    "pending.eta": set(),
    "pending.notes": set(),
    "info.notes": set(),
    "refusal.unknown_style": {"style", "styles"},
    "prefs.reset_one": {"setting"},
    "note.preference.unknown_model": {"value"},
    "note.preference.not_accepted": {"setting", "value", "model"},
    "note.preference.conflict": {"value", "option"},
    "note.preference.over_allowance": {"value", "left"},
    "note.preference.too_long": {"max"},
    "note.style.not_accepted": {"setting", "value", "model"},
    "settings.style.template_slot": {"slot", "count"},
    "settings.style.aspect_ratio": {"model", "value", "allowed"},
}


def _report(lines: list[str]) -> str:
    return "\n" + "\n".join(lines)


# ---------------------------------------------------------------- the real catalogs


def test_every_key_is_in_every_language(messages: Messages) -> None:
    """Each locale has exactly English's keys; the failure lists each missing or stray key."""
    problems = checks.missing_keys(messages) + checks.extra_keys(messages)
    assert problems == [], _report(problems)


def test_placeholders_match_english(messages: Messages) -> None:
    """Every translation uses the same {placeholders} as English, and every template loads."""
    problems = checks.placeholder_problems(messages)
    assert problems == [], _report(problems)


def test_required_texts_exist_with_their_placeholders(messages: Messages) -> None:
    """The texts the rest of the bot calls for exist, taking the params their callers pass."""
    wrong = []
    for key, expected in REQUIRED_TEXT.items():
        template = messages.template("en-US", key)
        if template is None:
            wrong.append(f"{key}: missing")
            continue
        found = set(re.findall(r"{(\w+)}", template))
        if found != expected:
            wrong.append(f"{key}: placeholders {sorted(found)}, callers pass {sorted(expected)}")
    assert wrong == [], _report(wrong)


def test_every_command_and_option_has_localized_text(messages: Messages) -> None:
    """Each command, subcommand and option of the design has a name and description everywhere."""
    expected = [f"command.{c}.{part}" for c in COMMANDS for part in ("name", "description")]
    expected += [f"option.{o}.{part}" for o in OPTIONS for part in ("name", "description")]
    absent = [
        f"{locale}: {key}"
        for locale in SUPPORTED_LOCALES
        for key in expected
        if not messages.has(locale, key)
    ]
    assert absent == [], _report(absent)


def test_english_names_are_the_design_names(messages: Messages) -> None:
    """The English names are the fixed interface (/forget-me, /settings blocked-terms ...)."""
    assert messages.t("en-US", "command.forget_me.name") == "forget-me"
    assert messages.t("en-US", "command.settings.blocked_terms.name") == "blocked-terms"
    assert messages.t("en-US", "command.settings.log_channel.name") == "log-channel"
    assert messages.t("en-US", "command.settings.default_model.name") == "default-model"
    assert messages.t("en-US", "menu.edit_image.name") == "Edit image"
    for path in COMMANDS:
        assert messages.t("en-US", f"command.{path}.name") == path.split(".")[-1].replace("_", "-")
    for path in OPTIONS:
        assert messages.t("en-US", f"option.{path}.name") == path.split(".")[-1]


def test_localized_command_and_option_names_are_valid_discord_names(messages: Messages) -> None:
    """Localized slash names match Discord's name pattern: lowercase, no spaces, 1-32."""
    bad = [
        f"{locale}: {key} = {messages.template(locale, key)!r}"
        for locale in SUPPORTED_LOCALES
        for key in sorted(messages.keys(locale))
        if key.startswith(("command.", "option."))
        and key.endswith(".name")
        and not is_valid_slash_name(messages.template(locale, key) or "")
    ]
    assert bad == [], _report(bad)


def test_descriptions_and_choices_fit_discord_limits(messages: Messages) -> None:
    """Descriptions are 1-100 characters, choice names 1-100, menu names 1-32."""
    bad = []
    for locale in SUPPORTED_LOCALES:
        for key in sorted(messages.keys(locale)):
            text = messages.template(locale, key) or ""
            if key.endswith(".description") and not 1 <= len(text) <= 100:
                bad.append(f"{locale}: {key}: {len(text)} characters")
            if key.startswith("choice.") and not is_valid_choice_name(text):
                bad.append(f"{locale}: {key}: {len(text)} characters")
            if key.startswith("menu.") and not is_valid_context_menu_name(text):
                bad.append(f"{locale}: {key}: {text!r}")
    assert bad == [], _report(bad)


def test_localized_names_are_unique_among_siblings(messages: Messages) -> None:
    """Two subcommands or options of one command never share a name in any language."""
    problems = checks.sibling_name_clashes(messages)
    assert problems == [], _report(problems)


def test_each_command_fits_discords_size_budget(messages: Messages) -> None:
    """All texts of one top-level command stay under Discord's 4000-character budget."""
    problems = checks.command_size_problems(messages)
    assert problems == [], _report(problems)


def test_texts_fit_where_they_are_shown(messages: Messages) -> None:
    """Buttons, modal labels, embed titles and help sections fit Discord's field limits."""
    problems = checks.length_problems(messages)
    assert problems == [], _report(problems)


def test_commands_mentioned_in_text_exist_in_that_language(messages: Messages) -> None:
    """Every `/command` in a text is the command's name as the reader's client shows it."""
    problems = checks.command_reference_problems(messages)
    assert problems == [], _report(problems)


def test_help_names_the_edit_image_menu_in_each_language(messages: Messages) -> None:
    """The help text points at the right-click menu by the name the reader sees."""
    for locale in SUPPORTED_LOCALES:
        menu = messages.t(locale, "menu.edit_image.name")
        assert menu in messages.t(locale, "help.edit.body"), locale


def test_blocked_term_refusal_does_not_echo_the_term(messages: Messages) -> None:
    """The blocked-term refusal takes no parameter, so it cannot repeat the term."""
    for locale in SUPPORTED_LOCALES:
        text = messages.t(locale, "refusal.blocked_term", term="forbidden-word")
        assert "forbidden-word" not in text
        assert "{" not in text


def test_locale_files_are_in_canonical_form() -> None:
    """Locale files are sorted and indented one way, so parallel additions merge cleanly."""
    for locale in SUPPORTED_LOCALES:
        path = LOCALES_DIR / f"{locale}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert path.read_text(encoding="utf-8") == canonical_json(data), (
            f"{path.name} is not canonical; run: python -m bot.i18n format"
        )
        assert "_meta" in data, f"{path.name} has no _meta note for translators"


def test_each_language_reads_like_itself(messages: Messages) -> None:
    """Spot checks: Taiwan vocabulary in zh-TW, Simplified in zh-CN, polite Japanese."""
    assert "伺服器" in messages.t("zh-TW", "refusal.user_blocked")
    assert "服务器" in messages.t("zh-CN", "refusal.user_blocked")
    assert "頻道" in messages.t("zh-TW", "refusal.channel_not_allowed", channels="#a")
    assert "频道" in messages.t("zh-CN", "refusal.channel_not_allowed", channels="#a")
    assert messages.t("zh-TW", "command.settings.name") == "設定"
    assert messages.t("zh-CN", "command.settings.name") == "设置"
    assert messages.t("zh-TW", "button.cancel") == messages.t("zh-CN", "button.cancel") == "取消"
    assert messages.t("ja", "error.provider").endswith("ください。")
    simplified_only = set("们这设图频务删个时间")
    traditional_only = set("們這設圖頻務刪個時間")
    for key in messages.keys("zh-TW"):
        assert not simplified_only & set(messages.t("zh-TW", key)), key
        assert not traditional_only & set(messages.t("zh-CN", key)), key


# ---------------------------------------------------------------- lookups and fallbacks


def test_filled_placeholders(messages: Messages) -> None:
    """t() fills named placeholders in the requested language."""
    assert messages.t("zh-TW", "status.queued", position=3) == "排隊中（第 3 位）"
    assert messages.t("en-US", "status.queued", position=3) == "Queued (position 3)"


def test_missing_key_in_a_locale_falls_back_to_english(write_catalogs: CatalogWriter) -> None:
    """A key a translation lacks is shown in English, not as a key or an error."""
    folder = write_catalogs(
        {"en-US": {"a": "Hello {name}", "b": "Bye"}, "zh-TW": {"a": "你好 {name}"}}
    )
    loaded = Messages.load(folder)
    assert loaded.t("zh-TW", "a", name="Ann") == "你好 Ann"
    assert loaded.t("zh-TW", "b") == "Bye"
    assert loaded.has("zh-TW", "a") and not loaded.has("zh-TW", "b")
    assert loaded.missing() == {
        "en-US": set(),
        "zh-TW": {"b"},
        "zh-CN": {"a", "b"},
        "ja": {"a", "b"},
    }


def test_missing_everywhere_returns_the_key_and_warns_once(
    write_catalogs: CatalogWriter, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown key shows itself and logs one warning, however often it is asked for."""
    loaded = Messages.load(write_catalogs({"en-US": {"a": "A"}}))
    with caplog.at_level(logging.WARNING, logger="bot.i18n.messages"):
        assert loaded.t("ja", "no.such.key") == "no.such.key"
        assert loaded.t("en-US", "no.such.key") == "no.such.key"
    warnings = [r for r in caplog.records if "no.such.key" in r.getMessage()]
    assert len(warnings) == 1


def test_missing_params_never_raise(messages: Messages) -> None:
    """Forgotten params leave the placeholder visible instead of failing the reply."""
    text = messages.t("ja", "refusal.user_daily_limit", limit=5)
    assert "5" in text and "{reset}" in text and "{used}" in text


def test_bad_translation_params_fall_back_to_english(write_catalogs: CatalogWriter) -> None:
    """When a translation needs a param the caller didn't pass, English is used instead."""
    loaded = Messages.load(
        write_catalogs({"en-US": {"a": "Limit {limit}"}, "ja": {"a": "上限 {limit}（{wrong}）"}})
    )
    assert loaded.t("ja", "a", limit=4) == "Limit 4"
    assert loaded.placeholder_mismatches() == [("ja", "a", {"limit"}, {"limit", "wrong"})]


def test_a_value_that_cannot_format_never_raises(write_catalogs: CatalogWriter) -> None:
    """A param whose formatting raises yields the raw template, not an exception."""

    class Exploding:
        def __format__(self, spec: str) -> str:
            raise RuntimeError("boom")

    loaded = Messages.load(write_catalogs({"en-US": {"a": "Value {v}"}, "zh-CN": {"a": "值 {v}"}}))
    assert loaded.t("zh-CN", "a", v=Exploding()) == "值 {v}"


def test_malformed_templates_are_dropped_and_reported(write_catalogs: CatalogWriter) -> None:
    """Unbalanced braces or positional fields don't load; English is shown, the problem listed."""
    loaded = Messages.load(
        write_catalogs(
            {
                "en-US": {"a": "Left {n}", "b": "Right {n}", "c": "Braces {{ok}}"},
                "zh-TW": {"a": "左 {n", "b": "右 {0}", "c": "大括號 {{ok}}"},
                "ja": {"a": "左 {n!r}"},
            }
        )
    )
    assert loaded.t("zh-TW", "a", n=1) == "Left 1"
    assert loaded.t("zh-TW", "b", n=1) == "Right 1"
    assert loaded.t("zh-TW", "c") == "大括號 {ok}"
    assert loaded.t("ja", "a", n=1) == "Left 1"
    assert [p.split(":")[:2] for p in loaded.problems] == [
        ["zh-TW", " a"],
        ["zh-TW", " b"],
        ["ja", " a"],
    ]


def test_other_locales_resolve_to_a_catalog(messages: Messages) -> None:
    """t() accepts any Discord locale: en-GB reads English, zh-HK Traditional, fr English."""
    assert messages.t("en-GB", "button.cancel") == "Cancel"
    assert messages.t("zh-HK", "button.cancel") == "取消"
    assert messages.t("ja-JP", "button.cancel") == "キャンセル"
    assert messages.t("fr", "button.cancel") == "Cancel"
    assert messages.keys("zh-HK") == messages.keys("zh-TW")


def test_bound_messages(messages: Messages) -> None:
    """bind() gives a one-locale callable for rendering code."""
    text = messages.bind("zh-CN")
    assert text.locale == "zh-CN"
    assert text("status.processing", percent=40) == "生成中… 40%"


def test_meta_entries_are_not_messages(write_catalogs: CatalogWriter) -> None:
    """Keys starting with _ are notes for translators and never become texts."""
    loaded = Messages.load(write_catalogs({"en-US": {"_meta": "note", "a": "A"}}))
    assert loaded.keys("en-US") == {"a"}


# ---------------------------------------------------------------- loading errors


def test_english_file_is_required(write_catalogs: CatalogWriter) -> None:
    """Without en-US.json there is no fallback, so loading fails naming the file."""
    folder = write_catalogs({"ja": {"a": "A"}})
    with pytest.raises(CatalogError, match=r"en-US\.json"):
        Messages.load(folder)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('{"a": "A", "a": "B"}', "appears twice"),
        ('{"a": {"nested": "no"}}', "must be text"),
        ('["a"]', "one JSON object"),
        ('{"a": "A",}', "not valid JSON"),
    ],
)
def test_broken_files_are_refused_with_a_reason(
    tmp_path: Path, content: str, complaint: str
) -> None:
    """A locale file that is not a flat, unique key -> text map is refused, naming the problem."""
    (tmp_path / "en-US.json").write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError, match=complaint):
        Messages.load(tmp_path)


# ---------------------------------------------------------------- choosing the locale


@pytest.mark.parametrize(
    ("interaction_locale", "guild_locale", "expected"),
    [
        ("en-US", None, "en-US"),
        ("en-GB", None, "en-US"),
        ("zh-TW", None, "zh-TW"),
        ("zh-CN", None, "zh-CN"),
        ("ja", None, "ja"),
        ("ja-JP", None, "ja"),
        ("zh-HK", None, "zh-TW"),
        ("zh-MO", None, "zh-TW"),
        ("zh-Hant", None, "zh-TW"),
        ("zh-Hant-HK", None, "zh-TW"),
        ("zh", None, "zh-CN"),
        ("zh-SG", None, "zh-CN"),
        ("zh-Hans", None, "zh-CN"),
        ("zh_TW", None, "zh-TW"),
        ("ZH-tw", None, "zh-TW"),
        ("fr", "ja", "ja"),
        ("fr", "zh-HK", "zh-TW"),
        ("ko", "de", "en-US"),
        ("ja", "zh-TW", "ja"),
        (None, "zh-CN", "zh-CN"),
        ("", "", "en-US"),
        (None, None, "en-US"),
        ("es-ES", None, "en-US"),
    ],
)
def test_resolve_locale(
    interaction_locale: str | None, guild_locale: str | None, expected: str
) -> None:
    """The user's locale wins, by exact tag then language; then the server's; then English."""
    assert resolve_locale(interaction_locale, guild_locale) == expected
