"""/models: every model of the catalog with its options and its price (or that it is unknown),
inside Discord's embed limits in every language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cogs.conftest import Stack, text

FLEX = "black-forest-labs/flux-2-flex"


def _embed_size(embed: dict[str, Any]) -> int:
    """What Discord counts against its 6000-character limit for one message's embeds."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    return size + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


async def _models(stack: Stack, locale: str = "en-US") -> dict[str, Any]:
    interaction = await stack.discord.slash(
        "models", user=stack.discord.users.member, locale=locale
    )
    await interaction.wait_callback()
    assert interaction.original_message.ephemeral
    return interaction.original_message.embeds[0]


async def test_models_lists_the_lineup_with_prices(stack: Stack) -> None:
    """Ten models; FLUX 2 Flex shows $0.192 per request with the day it was read, the rest say
    their price is unknown; FLUX.2 shows its images option with the bounds."""
    embed = await _models(stack)
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert len(fields) == len(stack.services.catalog)
    flex = next(value for name, value in fields.items() if FLEX in name)
    assert text(stack, "models.price_request", usd="$0.192", date="2026-12-07") in flex
    assert "`images` (1–10 images)" in flex
    unknown = [v for v in fields.values() if text(stack, "models.price_unknown") in v]
    assert len(unknown) == len(fields) - 1


@pytest.mark.parametrize("locale", ["en-US", "zh-TW", "zh-CN", "ja"])
async def test_models_fits_discords_embed_limits(stack: Stack, locale: str) -> None:
    """The whole list stays under 6000 characters and each field under 1024, in every language."""
    embed = await _models(stack, locale)
    assert _embed_size(embed) <= 6000
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed["footer"]["text"] == text(stack, "models.footer", locale)
