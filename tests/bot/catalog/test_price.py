"""Prices are data: per image or per request, in USD, with the day they were read; unknown is
never zero; MODELS_FILE can set or clear one (issue #21, part A)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, CatalogError, Price, build_input, load_catalog
from bot.catalog.price import parse_price
from tests.bot.catalog._data import ALL_MODELS, FLUX2_FLEX, SCHNELL, counter


def test_flux_2_flex_costs_what_cometapi_listed(catalog: Catalog) -> None:
    """FLUX 2 Flex: $0.192 per request, read from CometAPI's model page on 2026-12-07."""
    price = catalog.get(FLUX2_FLEX).price
    assert price == Price(
        usd=Decimal("0.192"),
        unit="request",
        as_of=date(2026, 12, 7),
        source="https://www.cometapi.com/models/replicate/black-forest-labs/flux-2-flex/",
    )
    assert price.text() == "$0.192"


def test_prices_not_found_on_cometapi_are_unknown(catalog: Catalog) -> None:
    """Every other built-in model's price is unknown (None), and its estimate too, never $0."""
    unknown = [m for m in ALL_MODELS if catalog.get(m).price is None]
    assert unknown == [m for m in ALL_MODELS if m != FLUX2_FLEX]
    spec = catalog.get(SCHNELL)
    assert spec.estimate_usd(build_input(spec, {"prompt": "x"}, rng=counter())) is None


def test_a_per_request_price_ignores_the_image_count(catalog: Catalog) -> None:
    """FLUX 2 Flex costs the same whatever the input."""
    spec = catalog.get(FLUX2_FLEX)
    assert spec.estimate_usd(build_input(spec, {"prompt": "x"}, rng=counter())) == Decimal("0.192")


def _with_prices(tmp_path: Path, **prices: Any) -> Catalog:
    path = tmp_path / "models.json"
    models = [{"id": model_id, "price": price} for model_id, price in prices.items()]
    path.write_text(json.dumps({"models": models}), encoding="utf-8")
    return load_catalog(path)


def test_a_per_image_price_counts_the_images_asked_for(tmp_path: Path) -> None:
    """Per image × num_outputs: four schnell images at $0.003 are $0.012, exactly."""
    price = {"usd": "0.003", "unit": "image", "as_of": "2026-12-01"}
    catalog = _with_prices(tmp_path, **{SCHNELL: price})
    spec = catalog.get(SCHNELL)
    four = build_input(spec, {"prompt": "x", "count": 4}, rng=counter())
    assert spec.estimate_usd(four) == Decimal("0.012")
    assert spec.estimate_usd({"prompt": "x"}) == Decimal("0.003")


def test_models_file_clears_a_price_with_null(tmp_path: Path) -> None:
    """`"price": null` in MODELS_FILE marks a built-in price unknown again."""
    catalog = _with_prices(tmp_path, **{FLUX2_FLEX: None})
    assert catalog.get(FLUX2_FLEX).price is None


def test_a_json_number_is_read_exactly() -> None:
    """0.192 written as a number is Decimal("0.192"), not a binary float's digits."""
    price = parse_price({"usd": 0.192, "unit": "request", "as_of": "2026-12-07"})
    assert price is not None and price.usd == Decimal("0.192")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("0.04", '"price" must be an object'),
        ({"usd": "0.04", "unit": "image"}, '"as_of"'),
        ({"usd": "0.04", "unit": "image", "as_of": "2026-02-30"}, "not a real day"),
        ({"usd": "0.04", "unit": "second", "as_of": "2026-12-01"}, "use one of image, request"),
        ({"usd": "-1", "unit": "image", "as_of": "2026-12-01"}, "zero or more"),
        ({"usd": "cheap", "unit": "image", "as_of": "2026-12-01"}, "is not a number"),
        ({"usd": True, "unit": "image", "as_of": "2026-12-01"}, 'needs "usd"'),
        ({"usd": "1", "unit": "image", "as_of": "2026-12-01", "per": 1}, "unknown key 'per'"),
        ({"usd": "1", "unit": "image", "as_of": "2026-12-01", "source": "page"}, "URL"),
    ],
)
def test_a_malformed_price_stops_the_start(tmp_path: Path, raw: Any, fragment: str) -> None:
    """A bad price in MODELS_FILE is one sentence naming the file, the model and the problem."""
    with pytest.raises(CatalogError) as caught:
        _with_prices(tmp_path, **{SCHNELL: raw})
    assert fragment in str(caught.value)
    assert f"model {SCHNELL!r}" in str(caught.value)
