"""/prefs show · set · reset: a member's own defaults for /imagine.

Preferences are the member's, kept across servers (`bot.storage.preferences`); where they sit
among the command's options, a server style and the server's default is the ladder of
`bot.policy.ladder` (docs/decisions/022-preferences-and-styles.md). The command works in DMs
too, whatever ALLOW_DMS says: it makes no image, and a member may want to set or clear their
preferences without a server.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.autocomplete import text_models
from bot.edge.context import locale_of, services_of
from bot.edge.places import SERVERS_AND_DMS
from bot.edge.render import model_label, truncate
from bot.errors import UserFacingError
from bot.storage.preferences import PREFERENCE_SETTINGS, PreferenceError, Preferences
from cogs.imagine import ASPECT_RATIOS, FORMATS

COLOR = 0x5865F2
# The English beside each catalog key is what discord.py registers before translation.
_SETTING_ENGLISH = {
    "model": "Model",
    "aspect_ratio": "Aspect ratio",
    "format": "Format",
    "quality": "Quality",
    "count": "Count",
    "suffix": "Prompt suffix",
}
RESET_CHOICES = [
    app_commands.Choice(name=_(_SETTING_ENGLISH[s], key=f"choice.prefs.reset.setting.{s}"), value=s)
    for s in PREFERENCE_SETTINGS
]


def _cmd(path: str, english_name: str, english_description: str) -> dict[str, Any]:
    return {
        "name": _(english_name, key=f"command.prefs.{path}.name"),
        "description": _(english_description, key=f"command.prefs.{path}.description"),
    }


def _name(path: str, option: str) -> Any:
    return _(option, key=f"option.prefs.{path}.{option}.name")


def _opt(path: str, option: str, english: str) -> Any:
    return _(english, key=f"option.prefs.{path}.{option}.description")


def prefs_embed(interaction: discord.Interaction, prefs: Preferences) -> discord.Embed:
    """Every setting, set or not, and the rule that says when each is used."""
    services = services_of(interaction)
    t, locale = services.messages.t, locale_of(interaction)
    embed = discord.Embed(
        title=t(locale, "prefs.title"), description=t(locale, "prefs.ladder"), color=COLOR
    )
    values = prefs.values()
    for setting in PREFERENCE_SETTINGS:
        value = values.get(setting)
        if value is None:
            shown = t(locale, "prefs.not_set")
        elif setting == "model":
            shown = model_label(services.catalog, str(value))
        else:
            shown = "`" + truncate(str(value).replace("`", "'"), 300) + "`"
        inline = setting != "suffix"
        embed.add_field(name=t(locale, f"prefs.setting.{setting}"), value=shown, inline=inline)
    return embed


class Prefs(commands.Cog):
    prefs = app_commands.Group(
        name=_("prefs", key="command.prefs.name"),
        description=_("Your own defaults for /imagine", key="command.prefs.description"),
        allowed_contexts=SERVERS_AND_DMS,
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @prefs.command(**_cmd("show", "show", "Show your preferences"))
    async def show(self, interaction: discord.Interaction) -> None:
        prefs = await services_of(interaction).preferences.get(interaction.user.id)
        await interaction.response.send_message(
            embed=prefs_embed(interaction, prefs), ephemeral=True
        )

    @prefs.command(**_cmd("set", "set", "Set what /imagine uses when you leave an option out"))
    @app_commands.rename(
        model=_name("set", "model"),
        aspect_ratio=_name("set", "aspect_ratio"),
        format=_name("set", "format"),
        quality=_name("set", "quality"),
        count=_name("set", "count"),
        suffix=_name("set", "suffix"),
    )
    @app_commands.describe(
        model=_opt("set", "model", "Your model (see /models)"),
        aspect_ratio=_opt("set", "aspect_ratio", "Your shape of image"),
        format=_opt("set", "format", "Your file format"),
        quality=_opt("set", "quality", "Your compression quality (1-100)"),
        count=_opt("set", "count", "How many images you usually want (1-4)"),
        suffix=_opt("set", "suffix", "Text added at the end of every prompt"),
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIOS, format=FORMATS)
    @app_commands.autocomplete(model=text_models)
    async def set_prefs(
        self,
        interaction: discord.Interaction,
        model: app_commands.Range[str, 1, 200] | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
        format: app_commands.Choice[str] | None = None,
        quality: app_commands.Range[int, 1, 100] | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        suffix: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        services = services_of(interaction)
        if model is not None:
            # Checked now, so a typo is caught when it is typed; a model that leaves the
            # catalog later is skipped per request, with a note (bot.policy.ladder).
            model = model.strip()
            if model not in services.catalog:
                raise UserFacingError("validation.unknown_model", model=model)
            spec = services.catalog.get(model)
            if not spec.usable_for("text-to-image"):
                raise UserFacingError("validation.model_needs_image", model=spec.label)
        changes = {
            "model": model,
            "aspect_ratio": aspect_ratio.value if aspect_ratio else None,
            "format": format.value if format else None,
            "quality": quality,
            "count": count,
            "suffix": suffix,
        }
        if all(value is None for value in changes.values()):
            raise UserFacingError("prefs.nothing_to_set")
        try:
            prefs = await services.preferences.set(interaction.user.id, **changes)
        except PreferenceError as exc:
            raise UserFacingError(f"prefs.{exc.code}", **exc.params) from None
        text = services.messages.t(locale_of(interaction), "prefs.saved")
        await interaction.response.send_message(
            text, embed=prefs_embed(interaction, prefs), ephemeral=True
        )

    @prefs.command(**_cmd("reset", "reset", "Forget one preference, or all of them"))
    @app_commands.rename(setting=_name("reset", "setting"))
    @app_commands.describe(setting=_opt("reset", "setting", "Which one (leave empty for all)"))
    @app_commands.choices(setting=RESET_CHOICES)
    async def reset(
        self,
        interaction: discord.Interaction,
        setting: app_commands.Choice[str] | None = None,
    ) -> None:
        services = services_of(interaction)
        chosen = [setting.value] if setting else None
        changed = await services.preferences.reset(interaction.user.id, chosen)
        t, locale = services.messages.t, locale_of(interaction)
        if not changed:
            key = "prefs.reset_nothing"
        elif setting is None:
            key = "prefs.reset_all"
        else:
            key = "prefs.reset_one"
        label = t(locale, f"prefs.setting.{setting.value}") if setting else ""
        await interaction.response.send_message(t(locale, key, setting=label), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Prefs(bot))
