"""The Discord half of `check --online`, against the fake Discord (REST only, checked by spec)."""

from __future__ import annotations

import dataclasses

import discord

from bot.cli.online import CheckLine
from bot.edge.online_check import REQUIRED, discord_lines, invite_url
from bot.settings import Secret, Settings, load_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.client import pointed_at
from tests.fakes.discord.models import ATTACH_FILES, BOT_DEFAULT


def _settings(fake: FakeDiscord, **env: str) -> Settings:
    values = {"DISCORD_TOKEN": fake.token, "COMETAPI_KEY": "sk-test-key", **env}
    return load_settings(values)


async def _lines(fake: FakeDiscord, settings: Settings) -> dict[str, CheckLine]:
    with pointed_at(fake):
        found = await discord_lines(settings)
    return {line.subject.split(" ")[0]: line for line in found}


def test_the_invite_asks_exactly_for_what_the_bot_needs() -> None:
    """View Channels, Send Messages, Embed Links, Attach Files, Read Message History: 117760."""
    assert REQUIRED.value == 117760
    assert invite_url(42) == (
        "https://discord.com/oauth2/authorize?client_id=42"
        "&scope=bot+applications.commands&permissions=117760"
    )


async def test_a_good_token_in_its_server_passes_every_line(fake_discord: FakeDiscord) -> None:
    """Who the bot is, its application id, the invite URL and its permissions in DEV_GUILD_ID."""
    fake = fake_discord
    lines = await _lines(fake, _settings(fake, DEV_GUILD_ID=str(fake.guild.id)))
    assert not any(line.failed for line in lines.values()), lines
    token = lines["DISCORD_TOKEN"]
    assert str(fake.application_id) in token.found and "ImageBot" in token.found
    assert fake.token not in "".join(line.render() for line in lines.values())
    assert lines["Invite"].found == invite_url(fake.application_id)
    guild_line = lines["DEV_GUILD_ID"]
    assert guild_line.mark == "ok" and "Attach Files" in guild_line.found
    assert lines["Slash"].mark == "ok"  # none yet, but the bot syncs to DEV_GUILD_ID at start


async def test_a_wrong_token_is_one_failed_line_with_the_fix(fake_discord: FakeDiscord) -> None:
    """Discord's 401 becomes ✗ DISCORD_TOKEN with where to reset the token."""
    wrong = Secret("bm90LWl0.wrong.token-for-tests")
    settings = dataclasses.replace(_settings(fake_discord), discord_token=wrong)
    with pointed_at(fake_discord):
        found = await discord_lines(settings)
    assert len(found) == 1 and found[0].failed
    assert "Reset Token" in found[0].fix


async def test_a_bot_without_attach_files_is_told_which_permission_and_how(
    fake_discord: FakeDiscord,
) -> None:
    """The bot's role lacks Attach Files (and @everyone too): ✗ naming it and the role."""
    fake = fake_discord
    fake.restrict_bot(BOT_DEFAULT & ~ATTACH_FILES)
    lines = await _lines(fake, _settings(fake, DEV_GUILD_ID=str(fake.guild.id)))
    line = lines["DEV_GUILD_ID"]
    assert line.failed and "Attach Files" in line.found and "Embed Links" not in line.found
    assert "ImageBot" in line.fix and "Invite URL" in line.fix


async def test_a_server_the_bot_is_not_in_gives_the_invite(fake_discord: FakeDiscord) -> None:
    """An unknown DEV_GUILD_ID: ✗ not a member, fixed by the invite URL."""
    fake = fake_discord
    lines = await _lines(fake, _settings(fake, DEV_GUILD_ID="123456789012345678"))
    line = lines["DEV_GUILD_ID"]
    assert line.failed and "not a member" in line.found
    assert invite_url(fake.application_id) in line.fix


async def test_no_dev_guild_and_no_commands_says_how_to_sync(fake_discord: FakeDiscord) -> None:
    """Without DEV_GUILD_ID the server is not checked, and unsynced commands are a failure."""
    fake = fake_discord
    lines = await _lines(fake, _settings(fake))
    assert lines["DEV_GUILD_ID"].mark == "skip"
    commands = lines["Slash"]
    assert commands.failed and "sync --guild" in commands.fix and "sync --global" in commands.fix
    fake.preload_commands([{"name": "imagine", "description": "Make an image"}])
    lines = await _lines(fake, _settings(fake))
    assert lines["Slash"].mark == "ok" and "globally" in lines["Slash"].found


async def test_an_interactions_endpoint_url_is_flagged(fake_discord: FakeDiscord) -> None:
    """An application that sends interactions to a URL never reaches the bot: ✗ with the fix."""
    fake = fake_discord
    fake.interactions_endpoint_url = "https://example.com/interactions"
    lines = await _lines(fake, _settings(fake, DEV_GUILD_ID=str(fake.guild.id)))
    assert lines["Interactions"].failed and "General Information" in lines["Interactions"].fix


def test_permission_names_read_like_discords_settings() -> None:
    """discord.py's `read_messages` is shown as Discord's “View Channels”."""
    from bot.edge.online_check import permission_names

    assert permission_names(REQUIRED) == (
        "View Channels, Send Messages, Embed Links, Attach Files, Read Message History"
    )
    assert permission_names(discord.Permissions(attach_files=True)) == "Attach Files"
