"""The fake CometAPI knows the lineup's input schemas: it takes every input the bot's catalog
builds (defaults and all), refuses what the real service refuses with a 422, and answers the
FLUX.2 models with one URL string."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.catalog import CLI_POLICY, build_input, load_catalog
from tests.fakes.cometapi import FakeCometAPI, ManualClock
from tests.fakes.cometapi_models import FLUX_MODELS

AUTH = {"Authorization": "Bearer test-key"}
URL = "https://cdn.discordapp.com/attachments/1/2/ref.png"
CATALOG = load_catalog()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeCometAPI]:
    async with FakeCometAPI(clock=clock, duration=1.0, start_delay=0.1) as server:
        yield server


async def _create(fake: FakeCometAPI, model: str, inputs: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{fake.base_url}/replicate/v1/models/{model}/predictions",
            json={"input": inputs},
            headers=AUTH,
        ) as response,
    ):
        return response.status, await response.json()


def test_the_fake_knows_every_catalog_model() -> None:
    """The fake serves the same ten models as the catalog (CometAPI's Replicate route)."""
    assert set(FLUX_MODELS) == set(CATALOG.ids())


@pytest.mark.parametrize("model_id", CATALOG.ids())
async def test_every_default_input_of_the_catalog_is_accepted(
    fake: FakeCometAPI, model_id: str
) -> None:
    """What build_input makes from a prompt (every default filled) is a valid create."""
    spec = CATALOG.get(model_id)
    options: dict[str, Any] = {"prompt": "a lighthouse"}
    if spec.images_field:
        options["images"] = [URL, URL]
    if spec.image_field:
        options["image"] = URL
    status, body = await _create(fake, model_id, build_input(spec, options))
    assert status == 201, body


async def test_flux_2_answers_one_url_string(fake: FakeCometAPI, clock: ManualClock) -> None:
    """A finished FLUX.2 prediction's output is a string, as Replicate's schema says."""
    status, body = await _create(
        fake, "black-forest-labs/flux-2-pro", {"prompt": "x", "input_images": [URL]}
    )
    assert status == 201
    clock.advance(5)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fake.base_url}/replicate/v1/predictions/{body['id']}", headers=AUTH) as got,
    ):
        finished = await got.json()
    assert finished["status"] == "succeeded"
    assert isinstance(finished["output"], str) and finished["output"].startswith("http")


@pytest.mark.parametrize(
    ("model_id", "inputs", "message"),
    [
        (
            "black-forest-labs/flux-2-pro",
            {"input_images": [URL] * 9},
            "input_images: Array must have at most 8 items",
        ),
        (
            "black-forest-labs/flux-2-dev",
            {"input_images": [URL] * 5},
            "input_images: Array must have at most 4 items",
        ),
        (
            "black-forest-labs/flux-2-flex",
            {"input_images": [URL, "not a url"]},
            "input_images.1: Does not match format 'uri'",
        ),
        (
            "black-forest-labs/flux-2-flex",
            {"input_images": URL},
            "input_images: Invalid type. Expected: array, given: str",
        ),
        (
            "black-forest-labs/flux-2-pro",
            {"safety_tolerance": 6},
            "safety_tolerance: Must be less than or equal to 5",
        ),
        (
            "black-forest-labs/flux-2-flex",
            {"guidance": 1},
            "guidance: Must be greater than or equal to 1.5",
        ),
        (
            "black-forest-labs/flux-2-pro",
            {"resolution": "8 MP"},
            "resolution must be one of the following",
        ),
        (
            "black-forest-labs/flux-pro",
            {"interval": 5},
            "interval: Must be less than or equal to 4",
        ),
        ("black-forest-labs/flux-dev", {"prompt_strength": 1.5}, "prompt_strength: Must be less"),
        ("black-forest-labs/flux-kontext-max", {"input_image_2": "x"}, "input_image_2: Does not"),
    ],
)
async def test_invalid_inputs_get_replicates_422(
    fake: FakeCometAPI, model_id: str, inputs: dict[str, Any], message: str
) -> None:
    """An input the real schema refuses gets a 422 problem naming the field, nothing runs."""
    status, body = await _create(fake, model_id, {"prompt": "x", **inputs})
    assert status == 422
    assert message in body["detail"]
    assert fake.predictions == {}


async def test_the_bots_catalog_refuses_first_what_the_fake_would(fake: FakeCometAPI) -> None:
    """Nine images never reach flux-2-pro: the catalog refuses them before any request."""
    with pytest.raises(ValueError):
        build_input(
            CATALOG.get("black-forest-labs/flux-2-pro"),
            {"prompt": "x", "images": [URL] * 9},
            policy=CLI_POLICY,
        )
