"""The result's buttons stay inside Discord's 5 × 5 component limits for any number of images,
and every Vary button carries its job, image and strength."""

from __future__ import annotations

import time
from typing import Any

import discord
import pytest

from bot.edge.components import VARY_TEMPLATE, result_view
from bot.i18n import Messages
from bot.jobs.model import Job, JobStatus

MESSAGES = Messages.load()


def job(**changes: Any) -> Job:
    now = time.time()
    fields: dict[str, Any] = {
        "id": 7,
        "status": JobStatus.SUCCEEDED,
        "kind": "imagine",
        "user_id": 1,
        "guild_id": 2,
        "channel_id": 3,
        "locale": "en-US",
        "model": "black-forest-labs/flux-schnell",
        "prompt": "p",
        "input": {"prompt": "p"},
        "image_count": 1,
        "created_at": now,
        "updated_at": now,
    }
    return Job(**{**fields, **changes})


def rows(view: discord.ui.View) -> list[list[str]]:
    found: dict[int, list[str]] = {}
    for item in view.children:
        assert isinstance(item, discord.ui.Button) and item.custom_id
        assert item.label and len(item.label) <= 80
        found.setdefault(item.row or 0, []).append(item.custom_id)
    return [found[row] for row in sorted(found)]


@pytest.mark.parametrize("images", [1, 2, 3, 4, 5, 8])
def test_every_layout_fits_five_rows_of_five(images: int) -> None:
    """However many images, at most 5 rows of at most 5 buttons, and no custom_id twice."""
    laid_out = rows(result_view(job(), MESSAGES, images=images))
    assert len(laid_out) <= 5 and all(len(row) <= 5 for row in laid_out)
    flat = [custom_id for row in laid_out for custom_id in row]
    assert len(flat) == len(set(flat))
    vary = [c for c in flat if c.startswith("imagebot:vary:")]
    assert len(vary) == 2 * min(images, 5)


def test_vary_custom_ids_match_the_registered_template() -> None:
    """Each Vary custom_id names the job, the image (1-based) and the level."""
    import re

    flat = [c for row in rows(result_view(job(), MESSAGES, images=2)) for c in row]
    matches = [re.fullmatch(VARY_TEMPLATE, c) for c in flat if c.startswith("imagebot:vary:")]
    assert [(m["job"], m["image"], m["level"]) for m in matches if m] == [
        ("7", "1", "subtle"),
        ("7", "2", "subtle"),
        ("7", "1", "strong"),
        ("7", "2", "strong"),
    ]


def test_a_model_the_catalog_does_not_vary_gets_no_vary_buttons() -> None:
    """Without a variation model the result keeps Re-roll, Remix, Edit, Info and Delete."""
    flat = [c for row in rows(result_view(job(), MESSAGES, images=4, vary=False)) for c in row]
    assert flat == [f"imagebot:{a}:7" for a in ("reroll", "remix", "edit", "info", "delete")]
