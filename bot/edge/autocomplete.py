"""Autocomplete of a model option: the catalog's models of one kind matching what was typed.

One callback per kind, shared by every command with a model option (/imagine, /edit,
/blend, /prefs set, /settings default-model and style add).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.edge.context import services_of


async def _models(
    interaction: discord.Interaction, current: str, kind: str
) -> list[app_commands.Choice[str]]:
    catalog = services_of(interaction).catalog
    return [
        app_commands.Choice(name=label[:100], value=model_id)
        for label, model_id in catalog.autocomplete(current, kind=kind, limit=25)
    ]


async def text_models(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Models that draw from a prompt alone."""
    return await _models(interaction, current, "text-to-image")


async def edit_models(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Models that edit an input image."""
    return await _models(interaction, current, "image-edit")


async def blend_models(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Models that take several input images."""
    return await _models(interaction, current, "blend")
