"""What a model costs on CometAPI: data in the catalog, read from CometAPI's model pages.

A price is per image (the request costs that times the images asked for) or per request,
in USD, with the day it was read, because CometAPI changes its prices and an operator must be
able to tell a stale figure from a fresh one. A model whose price nobody has read has none:
its costs are unknown, never zero. Recording what jobs cost is for the usage records to do
with `ModelSpec.estimate_usd`; this module only holds and checks the figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

PRICE_UNITS: tuple[str, ...] = ("image", "request")
_PRICE_KEYS = frozenset({"usd", "unit", "as_of", "source"})
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Price:
    """`usd` per `unit` ("image" or "request"), as CometAPI listed it on `as_of`."""

    usd: Decimal
    unit: str
    as_of: date
    source: str | None = None

    def estimate(self, images: int) -> Decimal:
        """The cost of one request that makes `images` images."""
        return self.usd * images if self.unit == "image" else self.usd

    def text(self) -> str:
        """`$0.192` in plain digits (no float rounding, no trailing zeros beyond the data)."""
        return f"${self.usd}"


def parse_price(raw: Any) -> Price | None:
    """A catalog entry's `price`: an object, or null for "unknown". ValueError says why not."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError('"price" must be an object such as {"usd": "0.04", "unit": "image", ...}')
    unknown = sorted(set(raw) - _PRICE_KEYS)
    if unknown:
        raise ValueError(
            f'"price" has the unknown key {unknown[0]!r} (known keys: {", ".join(sorted(_PRICE_KEYS))})'
        )
    usd = _usd(raw.get("usd"))
    unit = raw.get("unit")
    if unit not in PRICE_UNITS:
        raise ValueError(f'"price" unit is {unit!r}; use one of {", ".join(PRICE_UNITS)}')
    as_of = raw.get("as_of")
    if not isinstance(as_of, str) or not _DAY.match(as_of):
        raise ValueError('"price" needs "as_of", the day it was read, as "YYYY-MM-DD"')
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise ValueError(f'"price" as_of {as_of!r} is not a real day') from None
    source = raw.get("source")
    if source is not None and not (isinstance(source, str) and source.startswith("http")):
        raise ValueError('"price" source must be the URL of the page the price was read from')
    return Price(usd=usd, unit=str(unit), as_of=day, source=source)


def _usd(value: Any) -> Decimal:
    # A string keeps the figure exact ("0.192"); a JSON number is accepted and read through
    # its shortest decimal form, so 0.192 does not become 0.19199999999999999.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('"price" needs "usd", a number such as "0.04"')
    try:
        amount = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        raise ValueError(f'"price" usd {value!r} is not a number') from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f'"price" usd {value!r} must be zero or more')
    return amount


__all__ = ["PRICE_UNITS", "Price", "parse_price"]
