"""/settings style and /settings spoiler: a server's house looks, and hiding results.

A style is a template with one `{prompt}` and, optionally, the model and aspect ratio it
prefers; members pick it with `/imagine style:` (docs/decisions/022-preferences-and-styles.md).
The spoiler rule decides whether results are uploaded as spoilers: never, always, or in
age-restricted channels; a member can add one with `spoiler:`, never take one away
(docs/decisions/023-eta-and-spoilers.md).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.catalog import Catalog, UnknownModelError
from bot.edge.autocomplete import text_models
from bot.edge.context import locale_of, services_of
from bot.edge.render import model_label, truncate
from bot.errors import UserFacingError
from bot.policy.ladder import check_style_defaults
from bot.storage.styles import Style, StyleError
from cogs._settings_common import SettingsGroup, cmd, guild_of, name, opt, reply
from cogs.imagine import ASPECT_RATIOS

COLOR = 0x5865F2


async def _listed_styles(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    # Autocomplete runs no command checks: the list is only for those who manage it.
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return []
    names = await services_of(interaction).styles.names(interaction.guild_id)
    needle = current.strip().casefold()
    return [app_commands.Choice(name=n, value=n) for n in names if needle in n.casefold()][:25]


def _style_line(style: Style, catalog: Catalog) -> str:
    template = style.template.replace("`", "'")
    extras = [model_label(catalog, style.model) if style.model else None, style.aspect_ratio]
    shown = ", ".join(e for e in extras if e)
    return f"**{style.name}** — `{truncate(template, 200)}`" + (f" ({shown})" if shown else "")


class Styles(SettingsGroup):
    @app_commands.command(**cmd("style.add", "add", "Add a style members can pick in /imagine"))
    @app_commands.rename(
        style_name=name("style.add", "name"),
        template=name("style.add", "template"),
        model=name("style.add", "model"),
        aspect_ratio=name("style.add", "aspect_ratio"),
    )
    @app_commands.describe(
        style_name=opt("style.add", "name", "The style's name"),
        template=opt("style.add", "template", "The prompt, with {prompt} where the member's goes"),
        model=opt("style.add", "model", "A model the style uses unless the member picks one"),
        aspect_ratio=opt("style.add", "aspect_ratio", "A shape the style uses unless given"),
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIOS)
    @app_commands.autocomplete(model=text_models)
    async def add(
        self,
        interaction: discord.Interaction,
        style_name: app_commands.Range[str, 1, 32],
        template: app_commands.Range[str, 1, 1000],
        model: app_commands.Range[str, 1, 200] | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
    ) -> None:
        services, gid = services_of(interaction), guild_of(interaction)
        ratio = aspect_ratio.value if aspect_ratio else None
        model = model.strip() if model else None
        try:
            check_style_defaults(services.catalog, model, ratio)
        except UnknownModelError:
            raise UserFacingError("validation.unknown_model", model=model) from None
        # A template with a blocked term would refuse every prompt made with it: say so now.
        if await services.admission.blocked_term(gid, template.replace("{prompt}", " ")):
            raise UserFacingError("settings.style.blocked_term")
        try:
            style = await services.styles.add(
                gid,
                style_name,
                template,
                model=model,
                aspect_ratio=ratio,
                added_by=interaction.user.id,
            )
        except StyleError as exc:
            raise UserFacingError(f"settings.style.{exc.code}", **exc.params) from None
        await reply(interaction, "settings.style.added", name=style.name)

    @app_commands.command(**cmd("style.remove", "remove", "Remove a style"))
    @app_commands.rename(style_name=name("style.remove", "name"))
    @app_commands.describe(style_name=opt("style.remove", "name", "The style to remove"))
    @app_commands.autocomplete(style_name=_listed_styles)
    async def remove(
        self, interaction: discord.Interaction, style_name: app_commands.Range[str, 1, 100]
    ) -> None:
        removed = await services_of(interaction).styles.remove(guild_of(interaction), style_name)
        key = "settings.style.removed" if removed else "settings.style.not_found"
        await reply(interaction, key, name=style_name.strip())

    @app_commands.command(**cmd("style.list", "list", "Show this server's styles"))
    async def list_styles(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        styles = await services.styles.list_styles(guild_of(interaction))
        if not styles:
            await reply(interaction, "settings.style.empty")
            return
        locale = locale_of(interaction)
        lines = [_style_line(s, services.catalog) for s in styles]
        embed = discord.Embed(
            title=services.messages.t(locale, "settings.style.title", count=len(styles)),
            description=truncate("\n".join(lines), 4096),
            color=COLOR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


class Spoiler(SettingsGroup):
    async def _set(self, interaction: discord.Interaction, mode: str) -> None:
        await services_of(interaction).guild_config.set_spoiler_mode(guild_of(interaction), mode)
        await reply(interaction, f"settings.spoiler.{mode.replace('-', '_')}")

    @app_commands.command(**cmd("spoiler.on", "on", "Upload every result as a spoiler"))
    async def on(self, interaction: discord.Interaction) -> None:
        await self._set(interaction, "on")

    @app_commands.command(**cmd("spoiler.off", "off", "Upload results as they are"))
    async def off(self, interaction: discord.Interaction) -> None:
        await self._set(interaction, "off")

    @app_commands.command(
        **cmd("spoiler.nsfw_only", "nsfw-only", "Spoilers in age-restricted channels only")
    )
    async def nsfw_only(self, interaction: discord.Interaction) -> None:
        await self._set(interaction, "nsfw-only")
