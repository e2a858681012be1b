"""A job's cost: estimated from the images it asks for, settled from how it ended, unknown
(None) when its model has no price, never zero for that."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from bot.catalog import load_catalog
from bot.catalog.price import Price
from bot.jobs.costs import estimate_micros, settle_micros
from bot.jobs.model import NewJob
from bot.money import usd_to_micros

IMAGE, REQUEST = ("image", "request")
DAY = date(2026, 12, 7)


def test_the_estimate_is_per_image_times_images_or_the_request_price() -> None:
    """4 images at $0.003 each is $0.012; a per-request price ignores the count."""
    assert estimate_micros(3_000, IMAGE, 4) == 12_000
    assert estimate_micros(192_000, REQUEST, 4) == 192_000
    assert estimate_micros(3_000, IMAGE, 0) == 3_000  # a request makes at least one image
    assert estimate_micros(None, None, 4) is None


def test_the_estimate_agrees_with_the_catalogs_for_every_model_and_count() -> None:
    """What admission records is `ModelSpec.estimate_usd` in micro-dollars, for each model."""
    catalog = load_catalog()
    for spec in catalog:
        for price in (
            Price(Decimal("0.025"), IMAGE, DAY),
            Price(Decimal("0.192"), REQUEST, DAY),
        ):
            priced = replace(spec, price=price)
            for count in range(1, spec.max_outputs + 1):
                model_input = {"prompt": "x"}
                count_field = spec.option_field("count")
                if count_field is not None:
                    model_input[count_field.name] = count  # type: ignore[assignment]
                new = NewJob(
                    kind="imagine",
                    user_id=1,
                    guild_id=2,
                    channel_id=3,
                    model=spec.id,
                    prompt="x",
                    input=model_input,
                    image_count=int(model_input.get("num_outputs", 1)),  # as the edge counts
                    price_micros=usd_to_micros(price.usd),
                    price_unit=price.unit,
                )
                expected = priced.estimate_usd(model_input)
                assert expected is not None
                assert new.cost_estimate == usd_to_micros(expected), (spec.id, price, count)


def settle(**kw: object) -> int | None:
    base: dict[str, object] = {
        "price_micros": 3_000,
        "unit": IMAGE,
        "estimated": 12_000,
        "reached_provider": True,
        "provider_images": None,
    }
    return settle_micros(**{**base, **kw})  # type: ignore[arg-type]


def test_a_job_that_never_reached_the_provider_costs_nothing() -> None:
    """Refused, canceled while queued, failed before or during its create: 0, priced or not."""
    assert settle(reached_provider=False) == 0
    assert settle(reached_provider=False, price_micros=None, unit=None, estimated=None) == 0


def test_per_image_prices_settle_from_the_images_the_provider_made() -> None:
    """Asked for 4, the provider made 3: three images are paid, not four."""
    assert settle(provider_images=3) == 9_000
    assert settle(provider_images=4) == 12_000
    # A failed prediction that made nothing costs nothing at a price per image.
    assert settle(provider_images=0) == 0


def test_per_request_prices_count_the_request_whatever_its_end() -> None:
    """A prediction that ran counts its request: succeeded, failed, or unknown how it ended."""
    for images in (None, 0, 1, 4):
        assert (
            settle(price_micros=192_000, unit=REQUEST, estimated=192_000, provider_images=images)
            == 192_000
        )


def test_a_job_stopped_before_the_provider_said_how_it_ended_keeps_its_estimate() -> None:
    """Timed out or canceled while running: the provider may still finish and bill it."""
    assert settle(provider_images=None) == 12_000


@pytest.mark.parametrize("images", [None, 0, 2])
def test_an_unknown_price_stays_unknown_once_the_provider_ran_the_job(images: int | None) -> None:
    """No price: the settled cost is None (unknown), not 0."""
    assert settle(price_micros=None, unit=None, estimated=None, provider_images=images) is None
