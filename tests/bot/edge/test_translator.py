"""Commands declared with keyed locale_strs sync with zh-TW, zh-CN and ja localizations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.edge.context import locale_of
from bot.edge.translator import CatalogTranslator, catalog_locale
from bot.i18n import Messages

LOCALIZED = ("zh-TW", "zh-CN", "ja")


@pytest.fixture(scope="module")
def messages() -> Messages:
    return Messages.load()


@pytest.fixture
async def tree() -> AsyncIterator[app_commands.CommandTree[discord.Client]]:
    client = discord.Client(intents=discord.Intents.none())
    yield app_commands.CommandTree(client)
    await client.close()


def _build_commands(tree: app_commands.CommandTree[discord.Client]) -> dict[str, Any]:
    """A small slice of the real command set, declared the way the cogs declare it."""

    @app_commands.command(
        name=_("imagine", key="command.imagine.name"),
        description=_("Create images from a text description", key="command.imagine.description"),
    )
    @app_commands.rename(
        prompt=_("prompt", key="option.imagine.prompt.name"),
        aspect_ratio=_("aspect_ratio", key="option.imagine.aspect_ratio.name"),
    )
    @app_commands.describe(
        prompt=_("What to draw", key="option.imagine.prompt.description"),
        aspect_ratio=_("Shape of the image", key="option.imagine.aspect_ratio.description"),
    )
    @app_commands.choices(
        aspect_ratio=[
            app_commands.Choice(
                name=_("16:9 (widescreen)", key="choice.aspect_ratio.16_9"), value="16:9"
            ),
            app_commands.Choice(name="1:1", value="1:1"),  # plain str: left as is
        ]
    )
    async def imagine(
        interaction: discord.Interaction, prompt: str, aspect_ratio: str | None = None
    ) -> None:
        pass

    settings = app_commands.Group(
        name=_("settings", key="command.settings.name"),
        description=_("Settings", key="command.settings.description"),
    )
    channels = app_commands.Group(
        name=_("channels", key="command.settings.channels.name"),
        description=_("Channels", key="command.settings.channels.description"),
        parent=settings,
    )

    @channels.command(
        name=_("clear", key="command.settings.channels.clear.name"),
        description=_("Clear", key="command.settings.channels.clear.description"),
    )
    async def clear(interaction: discord.Interaction) -> None:
        pass

    @app_commands.context_menu(name=_("Edit image", key="menu.edit_image.name"))
    async def edit_image(interaction: discord.Interaction, message: discord.Message) -> None:
        pass

    tree.add_command(imagine)
    tree.add_command(settings)
    tree.add_command(edit_image)
    return {"imagine": imagine, "settings": settings, "edit_image": edit_image}


async def test_command_payload_has_localizations_for_the_three_catalogs(
    tree: app_commands.CommandTree[discord.Client], messages: Messages
) -> None:
    """Names, descriptions, options and choices carry zh-TW, zh-CN and ja text, never English."""
    commands = _build_commands(tree)
    payload = await commands["imagine"].get_translated_payload(tree, CatalogTranslator(messages))

    assert payload["name"] == "imagine"
    assert payload["name_localizations"] == {
        loc: messages.t(loc, "command.imagine.name") for loc in LOCALIZED
    }
    assert payload["name_localizations"]["zh-TW"] == "生成圖片"
    assert payload["description_localizations"]["ja"] == messages.t(
        "ja", "command.imagine.description"
    )
    prompt, aspect = payload["options"]
    assert prompt["name"] == "prompt"
    assert prompt["name_localizations"] == {
        loc: messages.t(loc, "option.imagine.prompt.name") for loc in LOCALIZED
    }
    assert prompt["description_localizations"]["zh-CN"] == "想画什么"
    assert aspect["choices"][0]["name_localizations"] == {
        loc: messages.t(loc, "choice.aspect_ratio.16_9") for loc in LOCALIZED
    }
    assert "name_localizations" not in aspect["choices"][1]


async def test_groups_and_context_menus_are_localized(
    tree: app_commands.CommandTree[discord.Client], messages: Messages
) -> None:
    """Groups, their subcommands and the Edit image menu get their catalog names."""
    commands = _build_commands(tree)
    translator = CatalogTranslator(messages)
    settings = await commands["settings"].get_translated_payload(tree, translator)
    assert settings["name_localizations"]["zh-TW"] == "設定"
    channels = settings["options"][0]
    assert channels["name_localizations"]["zh-CN"] == "频道"
    clear = channels["options"][0]
    assert clear["name_localizations"] == {
        loc: messages.t(loc, "command.settings.channels.clear.name") for loc in LOCALIZED
    }
    menu = await commands["edit_image"].get_translated_payload(tree, translator)
    assert menu["name"] == "Edit image"
    assert menu["name_localizations"] == {
        "zh-TW": "編輯圖片",
        "zh-CN": "编辑图片",
        "ja": "画像を編集",
    }


async def test_translate_returns_text_for_chinese_and_none_for_english(
    messages: Messages,
) -> None:
    """zh-TW gets the catalog text; English locales and unkeyed strings get None."""
    translator = CatalogTranslator(messages)
    keyed = _("Create images", key="command.imagine.description")
    context: app_commands.TranslationContext[Any, Any] = app_commands.TranslationContext(
        location=app_commands.TranslationContextLocation.other, data=None
    )
    zh_tw = await translator.translate(keyed, discord.Locale.taiwan_chinese, context)
    assert zh_tw == messages.t("zh-TW", "command.imagine.description")
    assert await translator.translate(keyed, discord.Locale.american_english, context) is None
    assert await translator.translate(keyed, discord.Locale.british_english, context) is None
    assert await translator.translate(keyed, discord.Locale.french, context) is None
    unkeyed = _("Create images")
    assert await translator.translate(unkeyed, discord.Locale.japanese, context) is None
    unknown = _("Nothing", key="command.nope.description")
    assert await translator.translate(unknown, discord.Locale.japanese, context) is None


async def test_a_key_missing_in_one_locale_is_left_out(
    tree: app_commands.CommandTree[discord.Client],
) -> None:
    """A locale without its own text gets no localization, so Discord shows English there."""
    catalog = {"command.imagine.name": "imagine", "command.imagine.description": "Create"}
    messages = Messages(
        {
            "en-US": catalog,
            "zh-TW": {"command.imagine.name": "生成圖片", "command.imagine.description": "生成"},
            "ja": {"command.imagine.description": "生成します"},
        }
    )
    commands = _build_commands(tree)
    payload = await commands["imagine"].get_translated_payload(tree, CatalogTranslator(messages))
    assert payload["name_localizations"] == {"zh-TW": "生成圖片"}
    assert payload["description_localizations"] == {"zh-TW": "生成", "ja": "生成します"}


async def test_a_name_discord_would_refuse_is_not_sent(
    tree: app_commands.CommandTree[discord.Client],
) -> None:
    """A translated slash name with a space or capitals is dropped instead of failing sync."""
    english = {"command.imagine.name": "imagine", "option.imagine.prompt.name": "prompt"}
    messages = Messages(
        {
            "en-US": english,
            "zh-TW": {"command.imagine.name": "生成 圖片", "option.imagine.prompt.name": "提示詞"},
            "ja": {"command.imagine.name": "Imagine", "option.imagine.prompt.name": "x" * 33},
        }
    )
    commands = _build_commands(tree)
    payload = await commands["imagine"].get_translated_payload(tree, CatalogTranslator(messages))
    assert payload["name_localizations"] == {}
    assert payload["options"][0]["name_localizations"] == {"zh-TW": "提示詞"}


def test_catalog_locale_mapping() -> None:
    """Only the three non-English Discord locales map to a catalog."""
    assert catalog_locale(discord.Locale.taiwan_chinese) == "zh-TW"
    assert catalog_locale(discord.Locale.chinese) == "zh-CN"
    assert catalog_locale(discord.Locale.japanese) == "ja"
    assert catalog_locale(discord.Locale.american_english) is None
    assert catalog_locale(discord.Locale.british_english) is None
    assert catalog_locale(discord.Locale.korean) is None


def _interaction(client: discord.Client, **fields: Any) -> discord.Interaction[discord.Client]:
    payload: dict[str, Any] = {
        "id": "1",
        "application_id": "2",
        "type": 2,
        "token": "t",
        "version": 1,
        "attachment_size_limit": 8 * 1024 * 1024,
        "user": {"id": "3", "username": "u", "discriminator": "0", "avatar": None},
        **fields,
    }
    return discord.Interaction(data=payload, state=client._connection)  # type: ignore[arg-type]


async def test_locale_of_a_real_interaction() -> None:
    """locale_of reads the user's locale first, then the guild's, then English."""
    client = discord.Client(intents=discord.Intents.none())
    try:
        assert locale_of(_interaction(client, locale="zh-TW")) == "zh-TW"
        assert locale_of(_interaction(client, locale="en-GB")) == "en-US"
        assert locale_of(_interaction(client, locale="fr", guild_locale="ja")) == "ja"
        assert locale_of(_interaction(client, locale="ko")) == "en-US"
    finally:
        await client.close()
