"""/blend: two to four images combined into one by a model that takes several (FLUX.2).

The cog parses the options and hands over: each attachment is checked like /edit's (type and
size) before anything else, and the request goes through the one door (`submit_request`).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.catalog import load_catalog
from bot.edge.autocomplete import blend_models
from bot.edge.context import locale_of, services_of
from bot.edge.requests import (
    DEFAULT_BLEND_MODEL,
    check_edit_attachment,
    record_attachment_refusal,
    submit_request,
)

# Fixed when the command is declared, from the built-in catalog (see cogs/imagine.py).
# "custom" needs width and height, which /blend has no option for.
ASPECT_RATIOS = [
    app_commands.Choice(name=r, value=r)
    for r in load_catalog(None).aspect_ratio_choices("blend")
    if r != "custom"
][:25]


def _name(option: str, english: str) -> Any:
    return _(english, key=f"option.blend.{option}.name")


def _opt(option: str, english: str) -> Any:
    return _(english, key=f"option.blend.{option}.description")


class Blend(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("blend", key="command.blend.name"),
        description=_("Combine 2 to 4 of your images into one", key="command.blend.description"),
    )
    @app_commands.rename(
        image1=_name("image1", "image1"),
        image2=_name("image2", "image2"),
        image3=_name("image3", "image3"),
        image4=_name("image4", "image4"),
        prompt=_name("prompt", "prompt"),
        model=_name("model", "model"),
        aspect_ratio=_name("aspect_ratio", "aspect_ratio"),
        seed=_name("seed", "seed"),
        spoiler=_name("spoiler", "spoiler"),
    )
    @app_commands.describe(
        image1=_opt("image1", "The first image"),
        image2=_opt("image2", "The second image"),
        image3=_opt("image3", "A third image (optional)"),
        image4=_opt("image4", "A fourth image (optional)"),
        prompt=_opt("prompt", "How to combine them (optional)"),
        model=_opt("model", "Which model that takes several images (default FLUX.2 Pro)"),
        aspect_ratio=_opt("aspect_ratio", "Shape of the result"),
        seed=_opt("seed", "Seed for a repeatable result"),
        spoiler=_opt("spoiler", "Hide the result behind a spoiler until clicked"),
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIOS)
    @app_commands.autocomplete(model=blend_models)
    async def blend(
        self,
        interaction: discord.Interaction,
        image1: discord.Attachment,
        image2: discord.Attachment,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        prompt: app_commands.Range[str, 1, 2000] | None = None,
        model: str | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        spoiler: bool | None = None,
    ) -> None:
        images = [a for a in (image1, image2, image3, image4) if a is not None]
        services = services_of(interaction)
        # Without a prompt the model is told, in the member's language, to combine them.
        text = prompt or services.messages.t(locale_of(interaction), "blend.default_prompt")
        for attachment in images:
            try:
                check_edit_attachment(attachment)
            except Exception:
                await record_attachment_refusal(
                    interaction,
                    attachment,
                    text,
                    kind="blend",
                    model=model or DEFAULT_BLEND_MODEL,
                )
                raise
        options = {
            "prompt": text,
            "images": [a.url for a in images],
            "aspect_ratio": aspect_ratio.value if aspect_ratio else None,
            "seed": seed,
        }
        await submit_request(
            interaction, kind="blend", model_id=model, options=options, spoiler=spoiler
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Blend(bot))
