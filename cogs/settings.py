"""/settings: a server's policy (Manage Server only). Parse, call GuildConfigStore, render.

The command tree is assembled here, in the order Discord shows it: the subgroups (their
commands in `_settings_lists`, `_settings_moderation`, `_settings_budget` and
`_settings_styles`), then the subcommands below. Every subcommand is refused in code for
members without Manage Server (`require_manage_server` runs before any option is read, as the
cog's check and as each subgroup's); `default_permissions` only hides the command.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.autocomplete import text_models
from bot.edge.context import locale_of, services_of
from bot.edge.render import model_label
from bot.edge.settings_view import (
    default_value,
    limit_label,
    limit_value,
    refusal,
    settings_embed,
)
from bot.errors import UserFacingError
from bot.storage.guild_config import LIMIT_KINDS, GuildConfigError
from cogs._settings_budget import Budget
from cogs._settings_common import cmd, guild_of, name, opt, reply, require_manage_server, store_of
from cogs._settings_lists import Channels, Roles
from cogs._settings_moderation import BlockedTerms, LogChannel
from cogs._settings_styles import Spoiler, Styles

# The English beside each catalog key is what discord.py registers before translation.
_KIND_ENGLISH = {
    "user_daily": "Images per member per day",
    "guild_daily": "Images per day for the whole server",
    "cooldown": "Seconds between a member's requests",
    "active_jobs": "Jobs a member may have queued or running",
}
KIND_CHOICES = [
    app_commands.Choice(
        name=_(_KIND_ENGLISH[code], key=f"choice.settings.limit.kind.{code}"), value=code
    )
    for code in LIMIT_KINDS
]
NSFW_CHOICES = [
    app_commands.Choice(
        name=_("Allow in age-restricted channels", key="choice.settings.nsfw.policy.allow"),
        value="allow",
    ),
    app_commands.Choice(
        name=_("Never allow", key="choice.settings.nsfw.policy.deny"), value="deny"
    ),
]


class Settings(commands.Cog):
    settings = app_commands.Group(
        name=_("settings", key="command.settings.name"),
        description=_(
            "Image bot settings for this server (Manage Server)",
            key="command.settings.description",
        ),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    channels = Channels(
        **cmd("channels", "channels", "Channels where the bot may be used"), parent=settings
    )
    roles = Roles(**cmd("roles", "roles", "Roles that may use the bot"), parent=settings)
    blocked_terms = BlockedTerms(
        **cmd("blocked_terms", "blocked-terms", "Words and patterns that prompts may not contain"),
        parent=settings,
    )
    log_channel = LogChannel(
        **cmd("log_channel", "log-channel", "A channel where moderators see every generation"),
        parent=settings,
    )
    budget = Budget(
        **cmd("budget", "budget", "Monthly spending budgets for this server"), parent=settings
    )
    style = Styles(**cmd("style", "style", "Styles members can pick in /imagine"), parent=settings)
    spoiler = Spoiler(**cmd("spoiler", "spoiler", "Hide results behind spoilers"), parent=settings)

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:  # type: ignore[override]
        return require_manage_server(interaction)

    @settings.command(**cmd("show", "show", "Show this server's current settings"))
    async def show(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        store, gid = services.guild_config, guild_of(interaction)
        embed = settings_embed(
            services.messages,
            services.catalog,
            services.settings,
            locale_of(interaction),
            await store.get(gid),
            term_count=len(await store.list_blocked_terms(gid)),
            blocked=await store.list_blocked_users(gid),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @settings.command(
        **cmd("limit", "limit", "Change a limit for the whole server or for one role")
    )
    @app_commands.rename(
        kind=name("limit", "kind"), value=name("limit", "value"), role=name("limit", "role")
    )
    @app_commands.describe(
        kind=opt("limit", "kind", "Which limit to change"),
        value=opt(
            "limit",
            "value",
            "New value, within the bot's limits; leave empty to go back to the default",
        ),
        role=opt("limit", "role", "Only for this role (leave empty for the whole server)"),
    )
    @app_commands.choices(kind=KIND_CHOICES)
    async def limit(
        self,
        interaction: discord.Interaction,
        kind: app_commands.Choice[str],
        value: int | None = None,
        role: discord.Role | None = None,
    ) -> None:
        services = services_of(interaction)
        messages, locale = services.messages, locale_of(interaction)
        spec = LIMIT_KINDS[kind.value]
        try:
            await services.guild_config.set_limit(
                guild_of(interaction), spec.code, value, role_id=role.id if role else None
            )
        except GuildConfigError as exc:
            raise refusal(exc) from None
        label = limit_label(messages, locale, spec)
        shown = None if value is None else limit_value(messages, locale, spec, value)
        if role is not None:
            if shown is None:
                await reply(
                    interaction, "settings.limit.reset_role", role=role.mention, limit=label
                )
            else:
                await reply(
                    interaction,
                    "settings.limit.updated_role",
                    role=role.mention,
                    limit=label,
                    value=shown,
                )
        elif shown is None:
            shown = default_value(messages, locale, spec, services.settings)
            await reply(interaction, "settings.limit.reset", limit=label, value=shown)
        else:
            await reply(interaction, "settings.limit.updated", limit=label, value=shown)

    @settings.command(
        **cmd("nsfw", "nsfw", "Whether NSFW images are allowed in age-restricted channels")
    )
    @app_commands.rename(policy=name("nsfw", "policy"))
    @app_commands.describe(policy=opt("nsfw", "policy", "Allow or deny"))
    @app_commands.choices(policy=NSFW_CHOICES)
    async def nsfw(
        self, interaction: discord.Interaction, policy: app_commands.Choice[str]
    ) -> None:
        allow = policy.value == "allow"
        await store_of(interaction).set_allow_nsfw(guild_of(interaction), allow)
        await reply(interaction, "settings.nsfw.allowed" if allow else "settings.nsfw.denied")

    @settings.command(
        **cmd("default_model", "default-model", "Choose the model used when a command names none")
    )
    @app_commands.rename(model=name("default_model", "model"))
    @app_commands.describe(model=opt("default_model", "model", "Model to use by default"))
    @app_commands.autocomplete(model=text_models)
    async def default_model(
        self, interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]
    ) -> None:
        catalog = services_of(interaction).catalog
        model = model.strip()
        if model not in {m.id for m in catalog.usable_for("text-to-image")}:
            if model in {m.id for m in catalog}:
                # /imagine is what uses the default: an image-edit model cannot serve it.
                raise UserFacingError(
                    "validation.model_needs_image", model=model_label(catalog, model)
                )
            raise UserFacingError("validation.unknown_model", model=model)
        await store_of(interaction).set_default_model(guild_of(interaction), model)
        await reply(interaction, "settings.default_model.set", model=model_label(catalog, model))

    @settings.command(**cmd("block", "block", "Stop a member from using the bot on this server"))
    @app_commands.rename(user=name("block", "user"), reason=name("block", "reason"))
    @app_commands.describe(
        user=opt("block", "user", "Member to block"),
        reason=opt("block", "reason", "Why (shown to moderators only)"),
    )
    async def block(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        changed = await store_of(interaction).block_user(
            guild_of(interaction), user.id, blocked_by=interaction.user.id, reason=reason
        )
        key = "settings.block.done" if changed else "settings.block.already"
        await reply(interaction, key, user=user.mention)

    @settings.command(**cmd("unblock", "unblock", "Let a blocked member use the bot again"))
    @app_commands.rename(user=name("unblock", "user"))
    @app_commands.describe(user=opt("unblock", "user", "Member to unblock"))
    async def unblock(self, interaction: discord.Interaction, user: discord.User) -> None:
        changed = await store_of(interaction).unblock_user(guild_of(interaction), user.id)
        key = "settings.unblock.done" if changed else "settings.unblock.not_blocked"
        await reply(interaction, key, user=user.mention)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Settings(bot))
