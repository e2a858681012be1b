"""/settings: a server's policy (Manage Server only). Parse, call GuildConfigStore, render.

Every subcommand is refused in code for members without Manage Server (`interaction_check`
runs before any option is read); `default_permissions` only hides the command, and a server
can change who sees it in its integration settings.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.context import locale_of, services_of
from bot.edge.render import model_label, truncate
from bot.errors import UserFacingError
from bot.storage.guild_config import (
    LIMIT_KINDS,
    BlockedTermError,
    GuildConfig,
    GuildConfigError,
    LimitKind,
)

SHOWN_BLOCKED_USERS = 20
COLOR = 0x5865F2
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
# BlockedTermError.code -> the sentence for the moderator.
TERM_ERROR_KEYS = {"pattern_invalid": "settings.blocked_terms.invalid_regex"}


def _cmd(path: str, english_name: str, english_description: str) -> dict[str, Any]:
    return {
        "name": _(english_name, key=f"command.settings.{path}.name"),
        "description": _(english_description, key=f"command.settings.{path}.description"),
    }


def _opt(path: str, option: str, english: str) -> Any:
    return _(english, key=f"option.settings.{path}.{option}.description")


def _name(path: str, option: str) -> Any:
    return _(option, key=f"option.settings.{path}.{option}.name")


def show_term(term: str) -> str:
    """A term as code, readable whatever it contains (only its moderator ever sees it)."""
    return f"``{term}``" if "`" in term else f"`{term}`"


def limit_value(t: Any, locale: str, kind: LimitKind, value: int) -> str:
    if value == 0:
        return str(t(locale, "settings.no_limit"))
    if kind.seconds:
        return str(t(locale, "common.seconds", seconds=value))
    return str(value)


def limit_label(t: Any, locale: str, kind: LimitKind) -> str:
    return str(t(locale, f"choice.settings.limit.kind.{kind.code}"))


async def _models(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    catalog = services_of(interaction).catalog
    return [
        app_commands.Choice(name=label[:100], value=model_id)
        for label, model_id in catalog.autocomplete(current, kind="text-to-image", limit=25)
    ]


async def _listed_terms(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    # Autocomplete runs no command checks: the list is only for those who manage it.
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return []
    terms = await services_of(interaction).guild_config.list_blocked_terms(interaction.guild_id)
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=term.term[:100], value=term.term)
        for term in terms
        if needle in term.term.lower() and len(term.term) <= 100
    ][:25]


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
    channels = app_commands.Group(
        **_cmd("channels", "channels", "Channels where the bot may be used"), parent=settings
    )
    roles = app_commands.Group(
        **_cmd("roles", "roles", "Roles that may use the bot"), parent=settings
    )
    blocked_terms = app_commands.Group(
        **_cmd("blocked_terms", "blocked-terms", "Words and patterns that prompts may not contain"),
        parent=settings,
    )
    log_channel = app_commands.Group(
        **_cmd("log_channel", "log-channel", "A channel where moderators see every generation"),
        parent=settings,
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:  # type: ignore[override]
        # Raised as check failures so the tree's error handler gives the one sentence.
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    async def _reply(interaction: discord.Interaction, key: str, **params: Any) -> None:
        services = services_of(interaction)
        await interaction.response.send_message(
            services.messages.t(locale_of(interaction), key, **params), ephemeral=True
        )

    @staticmethod
    def _guild(interaction: discord.Interaction) -> int:
        assert interaction.guild_id is not None  # interaction_check
        return interaction.guild_id

    # -- show ----------------------------------------------------------------------------

    @settings.command(**_cmd("show", "show", "Show this server's current settings"))
    async def show(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        gid = self._guild(interaction)
        config = await services.guild_config.get(gid)
        terms = await services.guild_config.list_blocked_terms(gid)
        blocked = await services.guild_config.list_blocked_users(gid)
        embed = discord.Embed(title=t(locale, "settings.title"), color=COLOR)
        channels = ", ".join(f"<#{c}>" for c in sorted(config.allowed_channel_ids))
        embed.add_field(
            name=t(locale, "settings.channels"),
            value=truncate(channels, 1024) or t(locale, "settings.all_channels"),
            inline=False,
        )
        roles = ", ".join(f"<@&{r}>" for r in sorted(config.allowed_role_ids))
        embed.add_field(
            name=t(locale, "settings.roles"),
            value=truncate(roles, 1024) or t(locale, "settings.everyone"),
            inline=False,
        )
        embed.add_field(
            name=t(locale, "settings.limits"),
            value=truncate("\n".join(self._limit_lines(interaction, config)), 1024),
            inline=False,
        )
        embed.add_field(
            name=t(locale, "settings.blocked_terms"),
            value=t(locale, "settings.blocked_terms_count", count=len(terms)),
            inline=False,
        )
        embed.add_field(
            name=t(locale, "settings.nsfw"),
            value=t(locale, "settings.nsfw_allow" if config.allow_nsfw else "settings.nsfw_deny"),
        )
        embed.add_field(
            name=t(locale, "settings.log_channel"),
            value=f"<#{config.log_channel_id}>"
            if config.log_channel_id
            else t(locale, "settings.not_set"),
        )
        default_model = (
            model_label(services.catalog, config.default_model)
            if config.default_model
            else t(
                locale,
                "settings.bot_default",
                value=model_label(services.catalog, services.settings.default_model),
            )
        )
        embed.add_field(name=t(locale, "settings.default_model"), value=default_model)
        users = [f"<@{b.user_id}>" for b in blocked[:SHOWN_BLOCKED_USERS]]
        if len(blocked) > SHOWN_BLOCKED_USERS:
            users.append("…")
        embed.add_field(
            name=f"{t(locale, 'settings.blocked_users')} · {len(blocked)}",
            value=truncate(", ".join(users), 1024) or t(locale, "common.none"),
            inline=False,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _limit_lines(self, interaction: discord.Interaction, config: GuildConfig) -> list[str]:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        lines = []
        for kind in LIMIT_KINDS.values():
            own = getattr(config, kind.column)
            if own is None:
                env = int(getattr(services.settings, kind.column))
                value = t(locale, "settings.bot_default", value=limit_value(t, locale, kind, env))
            else:
                value = limit_value(t, locale, kind, own)
            lines.append(
                t(locale, "settings.limit_line", limit=limit_label(t, locale, kind), value=value)
            )
        for role in config.role_limits:
            for kind in LIMIT_KINDS.values():
                own = getattr(role, kind.role_field) if kind.role_field else None
                if own is None:
                    continue
                lines.append(
                    t(
                        locale,
                        "settings.role_limit_line",
                        role=f"<@&{role.role_id}>",
                        limit=limit_label(t, locale, kind),
                        value=limit_value(t, locale, kind, own),
                    )
                )
        return lines

    # -- channels ------------------------------------------------------------------------

    @channels.command(**_cmd("channels.add", "add", "Allow the bot in a channel"))
    @app_commands.rename(channel=_name("channels.add", "channel"))
    @app_commands.describe(channel=_opt("channels.add", "channel", "Channel to allow"))
    async def channels_add(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        store = services_of(interaction).guild_config
        gid = self._guild(interaction)
        if channel.id in (await store.get(gid)).allowed_channel_ids:
            await self._reply(interaction, "settings.channels.already", channel=channel.mention)
            return
        await store.add_allowed_channel(gid, channel.id)
        await self._reply(interaction, "settings.channels.added", channel=channel.mention)

    @channels.command(**_cmd("channels.remove", "remove", "Remove a channel from the allowed list"))
    @app_commands.rename(channel=_name("channels.remove", "channel"))
    @app_commands.describe(channel=_opt("channels.remove", "channel", "Channel to remove"))
    async def channels_remove(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        store = services_of(interaction).guild_config
        gid = self._guild(interaction)
        if channel.id not in (await store.get(gid)).allowed_channel_ids:
            await self._reply(interaction, "settings.channels.not_listed", channel=channel.mention)
            return
        await store.remove_allowed_channel(gid, channel.id)
        await self._reply(interaction, "settings.channels.removed", channel=channel.mention)

    @channels.command(
        **_cmd("channels.clear", "clear", "Clear the list so the bot works in every channel")
    )
    async def channels_clear(self, interaction: discord.Interaction) -> None:
        await services_of(interaction).guild_config.set_allowed_channels(
            self._guild(interaction), []
        )
        await self._reply(interaction, "settings.channels.cleared")

    # -- roles ---------------------------------------------------------------------------

    @roles.command(**_cmd("roles.add", "add", "Allow a role to use the bot"))
    @app_commands.rename(role=_name("roles.add", "role"))
    @app_commands.describe(role=_opt("roles.add", "role", "Role to allow"))
    async def roles_add(self, interaction: discord.Interaction, role: discord.Role) -> None:
        store = services_of(interaction).guild_config
        gid = self._guild(interaction)
        if role.id in (await store.get(gid)).allowed_role_ids:
            await self._reply(interaction, "settings.roles.already", role=role.mention)
            return
        await store.add_allowed_role(gid, role.id)
        await self._reply(interaction, "settings.roles.added", role=role.mention)

    @roles.command(**_cmd("roles.remove", "remove", "Remove a role from the allowed list"))
    @app_commands.rename(role=_name("roles.remove", "role"))
    @app_commands.describe(role=_opt("roles.remove", "role", "Role to remove"))
    async def roles_remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        store = services_of(interaction).guild_config
        gid = self._guild(interaction)
        if role.id not in (await store.get(gid)).allowed_role_ids:
            await self._reply(interaction, "settings.roles.not_listed", role=role.mention)
            return
        await store.remove_allowed_role(gid, role.id)
        await self._reply(interaction, "settings.roles.removed", role=role.mention)

    @roles.command(**_cmd("roles.clear", "clear", "Clear the list so every member may use the bot"))
    async def roles_clear(self, interaction: discord.Interaction) -> None:
        await services_of(interaction).guild_config.set_allowed_roles(self._guild(interaction), [])
        await self._reply(interaction, "settings.roles.cleared")

    # -- limits --------------------------------------------------------------------------

    @settings.command(
        **_cmd("limit", "limit", "Change a limit for the whole server or for one role")
    )
    @app_commands.rename(
        kind=_name("limit", "kind"), value=_name("limit", "value"), role=_name("limit", "role")
    )
    @app_commands.describe(
        kind=_opt("limit", "kind", "Which limit to change"),
        value=_opt(
            "limit", "value", "New value; 0 means no limit; leave empty to go back to the default"
        ),
        role=_opt("limit", "role", "Only for this role (leave empty for the whole server)"),
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
        locale = locale_of(interaction)
        t = services.messages.t
        store = services.guild_config
        gid = self._guild(interaction)
        spec = LIMIT_KINDS[kind.value]
        try:
            await store.set_limit(gid, spec.code, value, role_id=role.id if role else None)
        except GuildConfigError as exc:
            if exc.code == "limit_not_per_role":
                raise UserFacingError("settings.limit.role_not_supported") from None
            raise UserFacingError(
                "settings.limit.out_of_range", min=exc.params["minimum"], max=exc.params["maximum"]
            ) from None
        label = limit_label(t, locale, spec)
        if role is None:
            if value is None:
                env = int(getattr(services.settings, spec.column))
                shown = t(locale, "settings.bot_default", value=limit_value(t, locale, spec, env))
                await self._reply(interaction, "settings.limit.reset", limit=label, value=shown)
                return
            shown = limit_value(t, locale, spec, value)
            await self._reply(interaction, "settings.limit.updated", limit=label, value=shown)
            return
        if value is None:
            await self._reply(
                interaction, "settings.limit.reset_role", role=role.mention, limit=label
            )
            return
        await self._reply(
            interaction,
            "settings.limit.updated_role",
            role=role.mention,
            limit=label,
            value=limit_value(t, locale, spec, value),
        )

    # -- blocked terms -------------------------------------------------------------------

    @blocked_terms.command(
        **_cmd("blocked_terms.add", "add", "Block a word, a phrase or a /regex/")
    )
    @app_commands.rename(term=_name("blocked_terms.add", "term"))
    @app_commands.describe(term=_opt("blocked_terms.add", "term", "A word, a phrase, or /regex/"))
    async def terms_add(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 300]
    ) -> None:
        store = services_of(interaction).guild_config
        gid = self._guild(interaction)
        existing = {t.term for t in await store.list_blocked_terms(gid)}
        if term.strip() in existing:
            await self._reply(interaction, "settings.blocked_terms.already")
            return
        try:
            added = await store.add_blocked_term(gid, term, added_by=interaction.user.id)
        except BlockedTermError as exc:
            key = TERM_ERROR_KEYS.get(exc.code, f"settings.blocked_terms.{exc.code}")
            raise UserFacingError(key, **exc.params) from None
        # Echoed to the moderator alone (ephemeral); members never see a term.
        await self._reply(interaction, "settings.blocked_terms.added", term=show_term(added.term))

    @blocked_terms.command(**_cmd("blocked_terms.remove", "remove", "Unblock a term"))
    @app_commands.rename(term=_name("blocked_terms.remove", "term"))
    @app_commands.describe(
        term=_opt("blocked_terms.remove", "term", "The term to unblock, written as it was added")
    )
    @app_commands.autocomplete(term=_listed_terms)
    async def terms_remove(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 300]
    ) -> None:
        store = services_of(interaction).guild_config
        if not await store.remove_blocked_term(self._guild(interaction), term):
            await self._reply(interaction, "settings.blocked_terms.not_found")
            return
        await self._reply(
            interaction, "settings.blocked_terms.removed", term=show_term(term.strip())
        )

    @blocked_terms.command(**_cmd("blocked_terms.list", "list", "Show the blocked terms"))
    async def terms_list(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        terms = await services.guild_config.list_blocked_terms(self._guild(interaction))
        if not terms:
            await self._reply(interaction, "settings.blocked_terms.empty")
            return
        lines: list[str] = []
        size = 0
        for term in terms:
            line = f"• {show_term(term.term)}"
            if size + len(line) + 1 > 3900:
                break
            lines.append(line)
            size += len(line) + 1
        if len(lines) < len(terms):
            lines.append(t(locale, "settings.blocked_terms.more", count=len(terms) - len(lines)))
        embed = discord.Embed(
            title=f"{t(locale, 'settings.blocked_terms.list_title')} · {len(terms)}",
            description="\n".join(lines),
            color=COLOR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # -- NSFW, log channel, default model ------------------------------------------------

    @settings.command(
        **_cmd("nsfw", "nsfw", "Whether NSFW images are allowed in age-restricted channels")
    )
    @app_commands.rename(policy=_name("nsfw", "policy"))
    @app_commands.describe(policy=_opt("nsfw", "policy", "Allow or deny"))
    @app_commands.choices(policy=NSFW_CHOICES)
    async def nsfw(
        self, interaction: discord.Interaction, policy: app_commands.Choice[str]
    ) -> None:
        allow = policy.value == "allow"
        await services_of(interaction).guild_config.set_allow_nsfw(self._guild(interaction), allow)
        await self._reply(interaction, "settings.nsfw.allowed" if allow else "settings.nsfw.denied")

    @log_channel.command(**_cmd("log_channel.set", "set", "Set the log channel"))
    @app_commands.rename(channel=_name("log_channel.set", "channel"))
    @app_commands.describe(channel=_opt("log_channel.set", "channel", "Channel for the log"))
    async def log_channel_set(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        guild = interaction.guild
        me = guild.me if guild is not None else None
        if me is None and guild is not None and interaction.client.user is not None:
            me = await guild.fetch_member(interaction.client.user.id)
        if me is not None:
            # What the mirror needs: see the channel, post, and show an embed.
            perms = channel.permissions_for(me)
            if not (perms.view_channel and perms.send_messages and perms.embed_links):
                raise UserFacingError("settings.log_channel.no_permission", channel=channel.mention)
        await services_of(interaction).guild_config.set_log_channel(
            self._guild(interaction), channel.id
        )
        await self._reply(interaction, "settings.log_channel.set", channel=channel.mention)

    @log_channel.command(
        **_cmd("log_channel.clear", "clear", "Stop mirroring generations to a log channel")
    )
    async def log_channel_clear(self, interaction: discord.Interaction) -> None:
        await services_of(interaction).guild_config.set_log_channel(self._guild(interaction), None)
        await self._reply(interaction, "settings.log_channel.cleared")

    @settings.command(
        **_cmd("default_model", "default-model", "Choose the model used when a command names none")
    )
    @app_commands.rename(model=_name("default_model", "model"))
    @app_commands.describe(model=_opt("default_model", "model", "Model to use by default"))
    @app_commands.autocomplete(model=_models)
    async def default_model(
        self, interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]
    ) -> None:
        services = services_of(interaction)
        catalog = services.catalog
        model = model.strip()
        usable = {m.id for m in catalog.usable_for("text-to-image")}
        if model not in usable:
            if model in {m.id for m in catalog}:
                # /imagine is what uses the default: an image-edit model cannot serve it.
                raise UserFacingError(
                    "validation.model_needs_image", model=model_label(catalog, model)
                )
            raise UserFacingError("validation.unknown_model", model=model)
        await services.guild_config.set_default_model(self._guild(interaction), model)
        await self._reply(
            interaction, "settings.default_model.set", model=model_label(catalog, model)
        )

    # -- block list ----------------------------------------------------------------------

    @settings.command(**_cmd("block", "block", "Stop a member from using the bot on this server"))
    @app_commands.rename(user=_name("block", "user"), reason=_name("block", "reason"))
    @app_commands.describe(
        user=_opt("block", "user", "Member to block"),
        reason=_opt("block", "reason", "Why (shown to moderators only)"),
    )
    async def block(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        changed = await services_of(interaction).guild_config.block_user(
            self._guild(interaction), user.id, blocked_by=interaction.user.id, reason=reason
        )
        key = "settings.block.done" if changed else "settings.block.already"
        await self._reply(interaction, key, user=user.mention)

    @settings.command(**_cmd("unblock", "unblock", "Let a blocked member use the bot again"))
    @app_commands.rename(user=_name("unblock", "user"))
    @app_commands.describe(user=_opt("unblock", "user", "Member to unblock"))
    async def unblock(self, interaction: discord.Interaction, user: discord.User) -> None:
        changed = await services_of(interaction).guild_config.unblock_user(
            self._guild(interaction), user.id
        )
        key = "settings.unblock.done" if changed else "settings.unblock.not_blocked"
        await self._reply(interaction, key, user=user.mention)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Settings(bot))
