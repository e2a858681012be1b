"""/imagine, /edit and the "Edit image" message command: parse options, hand over to the core."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.catalog import load_catalog
from bot.edge.autocomplete import edit_models, text_models
from bot.edge.context import services_of
from bot.edge.forms import on_modal_submit, open_context_edit
from bot.edge.places import image_places_of
from bot.edge.requests import check_edit_attachment, record_attachment_refusal, submit_request

# Choices are fixed when the command is declared; the built-in catalog (package data, not a
# setting) defines them. Validation still runs against the live catalog, MODELS_FILE included.
_BUILTIN = load_catalog(None)
ASPECT_RATIOS = [
    app_commands.Choice(name=r, value=r) for r in _BUILTIN.aspect_ratio_choices("text-to-image")
][:25]
EDIT_ASPECT_RATIOS = [
    app_commands.Choice(name=r, value=r) for r in _BUILTIN.aspect_ratio_choices("image-edit")
][:25]
FORMATS = [app_commands.Choice(name=f, value=f) for f in ("webp", "jpg", "png")]


def _opt(command: str, option: str, english: str) -> Any:
    return _(english, key=f"option.{command}.{option}.description")


def _name(command: str, option: str, english: str) -> Any:
    return _(english, key=f"option.{command}.{option}.name")


async def server_styles(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The server's styles matching what was typed. Autocomplete runs no command checks:
    it reads names only, of this server only (one indexed read of at most 25 rows)."""
    if interaction.guild_id is None:
        return []
    names = await services_of(interaction).styles.names(interaction.guild_id)
    needle = current.strip().casefold()
    return [app_commands.Choice(name=n, value=n) for n in names if needle in n.casefold()][:25]


class Imagine(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        # Servers only, unless the operator opened DMs (ALLOW_DMS): see bot.edge.places.
        places = image_places_of(bot)
        self.imagine.allowed_contexts = places
        self.edit.allowed_contexts = places
        self.edit_menu = app_commands.ContextMenu(
            name=_("Edit image", key="menu.edit_image.name"),
            callback=self.edit_image_menu,
            allowed_contexts=places,
        )
        bot.tree.add_command(self.edit_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.edit_menu.name, type=self.edit_menu.type)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await on_modal_submit(interaction)

    @app_commands.command(
        name=_("imagine", key="command.imagine.name"),
        description=_("Create images from a text description", key="command.imagine.description"),
    )
    @app_commands.rename(
        prompt=_name("imagine", "prompt", "prompt"),
        model=_name("imagine", "model", "model"),
        aspect_ratio=_name("imagine", "aspect_ratio", "aspect_ratio"),
        count=_name("imagine", "count", "count"),
        seed=_name("imagine", "seed", "seed"),
        format=_name("imagine", "format", "format"),
        quality=_name("imagine", "quality", "quality"),
        extra=_name("imagine", "extra", "extra"),
        style=_name("imagine", "style", "style"),
        spoiler=_name("imagine", "spoiler", "spoiler"),
    )
    @app_commands.describe(
        prompt=_opt("imagine", "prompt", "What to draw"),
        model=_opt("imagine", "model", "Which model (see /models)"),
        aspect_ratio=_opt("imagine", "aspect_ratio", "Shape of the image"),
        count=_opt("imagine", "count", "How many images (1-4)"),
        seed=_opt("imagine", "seed", "Seed for a repeatable result"),
        format=_opt("imagine", "format", "File format"),
        quality=_opt("imagine", "quality", "Compression quality (1-100)"),
        extra=_opt("imagine", "extra", "Other model fields: key=value; key=value"),
        style=_opt("imagine", "style", "One of this server's styles (see /settings style list)"),
        spoiler=_opt("imagine", "spoiler", "Hide the result behind a spoiler until clicked"),
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIOS, format=FORMATS)
    @app_commands.autocomplete(model=text_models, style=server_styles)
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 2000],
        model: str | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        format: app_commands.Choice[str] | None = None,
        quality: app_commands.Range[int, 1, 100] | None = None,
        extra: app_commands.Range[str, 1, 1000] | None = None,
        style: app_commands.Range[str, 1, 100] | None = None,
        spoiler: bool | None = None,
    ) -> None:
        # What is not given here comes from the style, the member's /prefs, then the server.
        options = {
            "prompt": prompt,
            "aspect_ratio": aspect_ratio.value if aspect_ratio else None,
            "count": count,
            "seed": seed,
            "format": format.value if format else None,
            "quality": quality,
        }
        await submit_request(
            interaction,
            kind="imagine",
            model_id=model,
            options=options,
            extra=extra,
            style=style,
            spoiler=spoiler,
        )

    @app_commands.command(
        name=_("edit", key="command.edit.name"),
        description=_(
            "Edit an image you upload, following a text instruction", key="command.edit.description"
        ),
    )
    @app_commands.rename(
        image=_name("edit", "image", "image"),
        prompt=_name("edit", "prompt", "prompt"),
        model=_name("edit", "model", "model"),
        aspect_ratio=_name("edit", "aspect_ratio", "aspect_ratio"),
        seed=_name("edit", "seed", "seed"),
        format=_name("edit", "format", "format"),
        spoiler=_name("edit", "spoiler", "spoiler"),
    )
    @app_commands.describe(
        image=_opt("edit", "image", "The image to edit"),
        prompt=_opt("edit", "prompt", "What to change"),
        model=_opt("edit", "model", "Which image-edit model"),
        aspect_ratio=_opt("edit", "aspect_ratio", "Shape of the result"),
        seed=_opt("edit", "seed", "Seed for a repeatable result"),
        format=_opt("edit", "format", "File format"),
        spoiler=_opt("edit", "spoiler", "Hide the result behind a spoiler until clicked"),
    )
    @app_commands.choices(aspect_ratio=EDIT_ASPECT_RATIOS, format=FORMATS)
    @app_commands.autocomplete(model=edit_models)
    async def edit(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        prompt: app_commands.Range[str, 1, 2000],
        model: str | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        format: app_commands.Choice[str] | None = None,
        spoiler: bool | None = None,
    ) -> None:
        try:
            check_edit_attachment(image)
        except Exception:
            await record_attachment_refusal(interaction, image, prompt)
            raise
        options = {
            "prompt": prompt,
            "image": image.url,
            "aspect_ratio": aspect_ratio.value if aspect_ratio else None,
            "seed": seed,
            "format": format.value if format else None,
        }
        await submit_request(
            interaction, kind="edit", model_id=model, options=options, spoiler=spoiler
        )

    async def edit_image_menu(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        await open_context_edit(interaction, message)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Imagine(bot))
