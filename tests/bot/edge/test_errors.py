"""The command error handler: one short ephemeral sentence for the user, details in the log."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.errors import UserFacingError
from tests.stack import Stack, text


async def _add_commands(stack: Stack) -> None:
    """Three commands that fail in the three ways the handler must cover."""

    @app_commands.command(name="boom", description="raises")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("secret internal detail")

    @app_commands.command(name="boom-late", description="defers, then raises")
    async def boom_late(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise RuntimeError("after the defer")

    @app_commands.command(name="refuse", description="refuses politely")
    async def refuse(interaction: discord.Interaction) -> None:
        raise UserFacingError("refusal.job_not_found")

    guild = discord.Object(id=stack.discord.guild.id)
    for command in (boom, boom_late, refuse):
        stack.bot.tree.add_command(command, guild=guild)
    await stack.bot.tree.sync(guild=guild)


async def test_unexpected_error_gives_an_error_id_and_logs_the_traceback(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception shows a sentence with an error id; the traceback is only logged."""
    await _add_commands(stack)
    fake = stack.discord
    with caplog.at_level(logging.ERROR, logger="bot.edge.errors"):
        interaction = await fake.slash("boom", user=fake.users.member)
        await interaction.wait_callback()
    reply = interaction.original_message
    assert reply.ephemeral
    match = re.search(r"[0-9a-f]{8}", reply.content)
    assert (
        match and "secret internal detail" not in reply.content and "Traceback" not in reply.content
    )
    assert reply.content == text(stack, "error.unknown", error_id=match.group(0))
    logged = [r for r in caplog.records if match.group(0) in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_error_after_defer_is_sent_as_a_follow_up(stack: Stack) -> None:
    """When the interaction was already answered, the sentence arrives as the follow-up."""
    await _add_commands(stack)
    fake = stack.discord
    interaction = await fake.slash("boom-late", user=fake.users.member)
    await interaction.wait_callback()
    await fake.wait_for(
        lambda r: r.method == "POST" and interaction.token in r.path and "callback" not in r.path
    )
    reply: Any = interaction.original_message
    match = re.search(r"[0-9a-f]{8}", reply.content)
    assert reply.ephemeral and match
    assert reply.content == text(stack, "error.unknown", error_id=match.group(0))


async def test_known_error_is_its_sentence(stack: Stack) -> None:
    """A UserFacingError becomes exactly its localized sentence."""
    await _add_commands(stack)
    fake = stack.discord
    interaction = await fake.slash("refuse", user=fake.users.member, locale="ja")
    await interaction.wait_callback()
    assert interaction.original_message.content == text(stack, "refusal.job_not_found", "ja")
