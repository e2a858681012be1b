"""The user's language end to end: synced command localizations and zh-TW replies."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text

LOCALES = ("zh-TW", "zh-CN", "ja")


def _synced(stack: Stack) -> dict[str, dict[str, Any]]:
    commands = stack.discord.commands_synced[stack.discord.guild.id]
    return {c["name"]: c for c in commands}


async def test_synced_commands_carry_every_localization(stack: Stack) -> None:
    """Every synced command has a name and description in zh-TW, zh-CN and ja."""
    synced = _synced(stack)
    assert {"imagine", "edit", "models", "jobs", "show", "help", "Edit image"} <= set(synced)
    messages = stack.services.messages
    for name, command in synced.items():
        names = command.get("name_localizations") or {}
        for locale in LOCALES:
            assert names.get(locale), f"{name} has no {locale} name"
        if command.get("type", 1) == 1:
            descriptions = command.get("description_localizations") or {}
            assert all(descriptions.get(loc) for loc in LOCALES), name
    imagine = synced["imagine"]
    assert imagine["name_localizations"]["zh-TW"] == messages.t("zh-TW", "command.imagine.name")
    prompt = next(o for o in imagine["options"] if o["name"] == "prompt")
    assert prompt["name_localizations"]["ja"] == messages.t("ja", "option.imagine.prompt.name")


async def test_zh_tw_user_gets_pending_result_and_errors_in_traditional_chinese(
    stack: Stack,
) -> None:
    """A zh-TW interaction sees the pending message, the result and a failure in zh-TW."""
    fake = stack.discord
    interaction = await fake.slash(
        "imagine", prompt="一隻貓", user=fake.users.member, locale="zh-TW"
    )
    await interaction.wait_callback()
    pending = interaction.original_message.embeds[0]
    assert pending["title"] == text(stack, "pending.title", "zh-TW")
    await stack.wait_job(1, "succeeded")
    result = interaction.original_message.embeds[0]
    assert result["title"] == text(stack, "result.title", "zh-TW")
    labels = [
        c.get("label") for row in interaction.original_message.components for c in row["components"]
    ]
    assert text(stack, "button.reroll", "zh-TW") in labels

    stack.api.set_model_behaviour(
        "black-forest-labs/flux-schnell", fail_with="NSFW content detected", duration=0.1
    )
    failing = await fake.slash("imagine", prompt="第二張", user=fake.users.member, locale="zh-TW")
    await failing.wait_callback()
    job = await stack.wait_job(2, "failed")
    assert job.locale == "zh-TW"
    await stack.wait_notified(2)
    assert failing.original_message.embeds[0]["description"] == text(stack, "error.safety", "zh-TW")


async def test_refusals_follow_the_interaction_locale(stack: Stack) -> None:
    """A validation refusal for a Japanese user is in Japanese."""
    fake = stack.discord
    interaction = await fake.slash(
        "imagine",
        prompt="x",
        model="black-forest-labs/flux-1.1-pro",
        count=2,
        user=fake.users.member,
        locale="ja",
    )
    await interaction.wait_callback()
    content = interaction.original_message.content
    from bot.catalog import InputValidationError, build_input
    from bot.edge.requests import validation_text

    spec = stack.services.catalog.get("black-forest-labs/flux-1.1-pro")
    try:
        build_input(spec, {"prompt": "x", "count": 2})
    except InputValidationError as error:
        assert content == validation_text(stack.services, "ja", error)
        assert content != validation_text(stack.services, "en-US", error)
    else:
        raise AssertionError("count=2 should be refused for a one-image model")


async def test_issue_20_commands_and_options_are_localized_in_the_sync(stack: Stack) -> None:
    """/prefs and its options, /imagine style: and spoiler:, /settings style and spoiler: each
    name and description reaches Discord in zh-TW, zh-CN and ja, from the catalog."""
    synced = _synced(stack)
    messages = stack.services.messages
    missing: list[str] = []

    def check(item: dict[str, Any], key: str) -> None:
        names = item.get("name_localizations") or {}
        descriptions = item.get("description_localizations") or {}
        for locale in LOCALES:
            if names.get(locale) != messages.t(locale, f"{key}.name"):
                missing.append(f"{key}.name {locale}")
            if descriptions.get(locale) != messages.t(locale, f"{key}.description"):
                missing.append(f"{key}.description {locale}")

    def walk(options: list[dict[str, Any]], path: str) -> None:
        for option in options:
            part = option["name"].replace("-", "_")
            if option["type"] in (1, 2):
                check(option, f"command.{path}.{part}")
                walk(option.get("options") or [], f"{path}.{part}")
            else:
                check(option, f"option.{path}.{part}")

    check(synced["prefs"], "command.prefs")
    walk(synced["prefs"]["options"], "prefs")
    imagine = {o["name"]: o for o in synced["imagine"]["options"]}
    check(imagine["style"], "option.imagine.style")
    check(imagine["spoiler"], "option.imagine.spoiler")
    assert imagine["style"]["autocomplete"] is True
    settings = {o["name"]: o for o in synced["settings"]["options"]}
    for group in ("style", "spoiler"):
        check(settings[group], f"command.settings.{group}")
        walk(settings[group]["options"], f"settings.{group}")
    assert missing == []


async def test_a_japanese_member_reads_the_note_and_the_estimate_label_in_japanese(
    stack: Stack,
) -> None:
    """A preference left out is explained in the member's language, as is the estimate."""
    fake = stack.discord
    await stack.services.preferences.set(fake.users.member.id, format="webp")
    first = await fake.slash(
        "imagine",
        prompt="猫",
        model="black-forest-labs/flux-1.1-pro-ultra",
        user=fake.users.member,
        locale="ja",
    )
    await first.wait_callback()
    pending = {f["name"]: f["value"] for f in first.original_message.embeds[0]["fields"]}
    t = stack.services.messages.t
    expected = t(
        "ja",
        "note.preference.not_accepted",
        setting=t("ja", "prefs.setting.format"),
        value="`webp`",
        model=stack.services.catalog.get("black-forest-labs/flux-1.1-pro-ultra").label,
    )
    assert pending[text(stack, "pending.notes", "ja")] == "• " + expected
    await stack.wait_job(1, "succeeded")
    second = await fake.slash(
        "imagine",
        prompt="犬",
        model="black-forest-labs/flux-1.1-pro-ultra",
        user=fake.users.member,
        locale="ja",
    )
    await second.wait_callback()
    labels = [f["name"] for f in second.original_message.embeds[0]["fields"]]
    assert text(stack, "pending.eta", "ja") in labels
