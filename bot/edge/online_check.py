"""The Discord half of `python -m bot check --online`: the token, the application, the invite
URL, the bot's place and permissions in `DEV_GUILD_ID`, and whether commands are registered.

REST only (discord.py's login, no gateway), so it answers in a second and starts nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import aiohttp
import discord

from bot.cli.online import CheckLine
from bot.edge.runner import point_discord_at
from bot.settings import Settings

# What the bot needs in a channel: see it, answer in it (the pending message and results),
# embeds, the image files, and Read Message History (to read an image for Edit and to edit a
# result after the interaction token has expired). 117760.
REQUIRED = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
PORTAL = "https://discord.com/developers/applications"


def invite_url(application_id: int, permissions: discord.Permissions = REQUIRED) -> str:
    """The invite link with exactly the permissions the bot needs, and slash commands."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope=bot+applications.commands&permissions={permissions.value}"
    )


def permission_names(permissions: discord.Permissions) -> str:
    """`Attach Files, Read Message History`, the way Discord's settings name them."""
    labels = {"read_messages": "View Channels"}  # discord.py's name for the flag
    names = [labels.get(name, name.replace("_", " ").title()) for name, on in permissions if on]
    return ", ".join(names)


async def discord_lines(settings: Settings) -> list[CheckLine]:
    """Log in over REST with DISCORD_TOKEN and report what Discord says, one line each."""
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    token = str(settings.discord_token or "")
    with _quiet_discord():
        return await _check(token, settings)


@contextlib.contextmanager
def _quiet_discord() -> Iterator[None]:
    """discord.py's start-up notes (voice support, logging in) would drown the report."""
    logger = logging.getLogger("discord")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _check(token: str, settings: Settings) -> list[CheckLine]:
    async with discord.Client(intents=discord.Intents(guilds=True)) as client:
        try:
            await client.login(token)
        except discord.LoginFailure:
            return [
                CheckLine(
                    "fail",
                    "DISCORD_TOKEN",
                    "Discord refused the token (401 Unauthorized).",
                    f"in the Developer Portal ({PORTAL}) open your application → Bot → Reset "
                    "Token, and put the new token in .env as DISCORD_TOKEN=...",
                )
            ]
        except (aiohttp.ClientError, discord.HTTPException, OSError) as exc:
            return [
                CheckLine(
                    "fail",
                    "DISCORD_TOKEN",
                    f"could not reach Discord ({type(exc).__name__}).",
                    "check this machine's internet access (proxy, firewall, DNS) and try again.",
                )
            ]
        return await _logged_in(client, settings)


async def _logged_in(client: discord.Client, settings: Settings) -> list[CheckLine]:
    user, app = client.user, client.application
    assert user is not None and app is not None  # set by login()
    lines = [
        CheckLine(
            "ok",
            "DISCORD_TOKEN",
            f"logged in as {user.name} (bot user {user.id}), application id {app.id}.",
        ),
        CheckLine("ok", "Invite URL", invite_url(app.id)),
    ]
    if app.interactions_endpoint_url:
        lines.append(
            CheckLine(
                "fail",
                "Interactions Endpoint URL",
                "the application sends interactions to a web address, so the bot never "
                "receives its commands.",
                f"clear Interactions Endpoint URL under General Information in {PORTAL}.",
            )
        )
    if settings.dev_guild_id is None:
        lines.append(
            CheckLine(
                "skip",
                "DEV_GUILD_ID",
                "not set, so no server was checked; set it to your server's id (Developer "
                "Mode on, right-click the server → Copy Server ID) to check the bot's "
                "permissions there.",
            )
        )
    else:
        lines.append(await _guild_line(client, app.id, settings.dev_guild_id, user.id))
    lines.append(await _commands_line(client, app.id, settings.dev_guild_id))
    return lines


async def _guild_line(client: discord.Client, app_id: int, guild_id: int, bot_id: int) -> CheckLine:
    subject = f"DEV_GUILD_ID {guild_id}"
    invite = f"open the invite URL above, choose that server and authorize: {invite_url(app_id)}"
    try:
        guild = await client.fetch_guild(guild_id, with_counts=False)
        member = await guild.fetch_member(bot_id)
    except (discord.Forbidden, discord.NotFound):
        return CheckLine("fail", subject, "the bot is not a member of that server.", invite)
    missing = discord.Permissions(REQUIRED.value & ~member.guild_permissions.value)
    if missing.value:
        return CheckLine(
            "fail",
            subject,
            f"in “{guild.name}” the bot lacks {permission_names(missing)}.",
            f"in Server Settings → Roles give the bot's role ({member.top_role.name}) "
            f"{permission_names(missing)}, or open the Invite URL above again and authorize "
            "the bot on that server.",
        )
    return CheckLine(
        "ok",
        subject,
        f"the bot is in “{guild.name}” with {permission_names(REQUIRED)} "
        "(a channel's own overrides can still take them away).",
    )


async def _commands_line(client: discord.Client, app_id: int, guild_id: int | None) -> CheckLine:
    on_guild: list[object] = []
    try:
        global_commands = list(await client.http.get_global_commands(app_id))
        if guild_id is not None:
            try:
                on_guild = list(await client.http.get_guild_commands(app_id, guild_id))
            except (discord.Forbidden, discord.NotFound):
                on_guild = []
    except discord.HTTPException as exc:
        return CheckLine(
            "skip", "Slash commands", f"could not list them (HTTP {exc.status}); not checked."
        )
    if global_commands or on_guild:
        where = []
        if on_guild:
            where.append(f"{len(on_guild)} on server {guild_id}")
        if global_commands:
            where.append(f"{len(global_commands)} globally (Discord may take up to an hour)")
        return CheckLine("ok", "Slash commands", "registered: " + ", ".join(where) + ".")
    if guild_id is not None:
        return CheckLine(
            "ok",
            "Slash commands",
            f"none registered yet; the bot registers them on server {guild_id} "
            "(DEV_GUILD_ID) when it starts.",
        )
    return CheckLine(
        "fail",
        "Slash commands",
        "none registered, so members will see no commands.",
        "run `python -m bot sync --guild YOUR_SERVER_ID` (instant, one server) or "
        "`python -m bot sync --global` (every server, up to an hour to appear).",
    )


__all__ = ["REQUIRED", "discord_lines", "invite_url", "permission_names"]
