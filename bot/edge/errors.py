"""The command tree's error handler: every error becomes one short ephemeral sentence.

Known errors map to a message key; anything else is logged with an error id that the user
sees, so an operator can find the traceback without the user ever seeing one.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.edge.context import locale_of
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.i18n import Messages

log = logging.getLogger(__name__)

# Discord answers these when an interaction token is no longer usable: nothing can reach the
# user through it any more, so the error is only logged.
DEAD_INTERACTION_CODES = {10062, 10015, 50027, 40060}


def new_error_id() -> str:
    return secrets.token_hex(4)


def explain(error: BaseException) -> tuple[str, dict[str, Any]] | None:
    """The message key and params for a known error, or None for an unexpected one."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.original if isinstance(error, app_commands.CommandInvokeError) else None
        if inner is not None:
            return explain(inner)
    if isinstance(error, UserFacingError):
        return error.key, error.params
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingRole):
        return "refusal.manage_server_required", {}
    if isinstance(error, app_commands.NoPrivateMessage):
        return "refusal.guild_only", {}
    if isinstance(error, app_commands.CommandOnCooldown):
        return "refusal.cooldown", {"retry": f"<t:{int(error.retry_after)}:R>"}
    if isinstance(error, app_commands.BotMissingPermissions):
        return "error.bot_missing_permissions", {
            "permissions": ", ".join(error.missing_permissions)
        }
    if isinstance(error, app_commands.CheckFailure):
        return "refusal.not_allowed", {}
    return None


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply once, ephemerally: as the response if none was sent yet, else as a follow-up."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        if exc.code in DEAD_INTERACTION_CODES:
            log.info("could not tell the user (interaction gone, code %s)", exc.code)
        else:
            log.warning("could not send an error reply: %s", exc)


async def handle_error(
    messages: Messages, interaction: discord.Interaction, error: BaseException
) -> None:
    """Answer any error of a command, button or form with one ephemeral sentence."""
    locale = locale_of(interaction)
    known = explain(error)
    if known is not None:
        key, params = known
        await send_ephemeral(interaction, messages.t(locale, key, **params))
        return
    error_id = new_error_id()
    if interaction.command is not None:
        where = f"/{interaction.command.qualified_name}"
    else:
        data: Any = interaction.data or {}
        where = str(data.get("custom_id", "?"))
    original = getattr(error, "original", error)
    log.error(
        "error %s in %s for user %s",
        error_id,
        where,
        interaction.user.id if interaction.user else "?",
        exc_info=(type(original), original, original.__traceback__),
    )
    await send_ephemeral(interaction, messages.t(locale, "error.unknown", error_id=error_id))


def install_error_handler(tree: app_commands.CommandTree[Any], messages: Messages) -> None:
    """Every command's errors go through `handle_error`."""

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await handle_error(messages, interaction, error)

    tree.on_error = on_error  # type: ignore[method-assign]
