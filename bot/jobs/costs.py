"""What a job costs: estimated when it is admitted, settled when it ends (issue #21).

Amounts are whole micro-dollars (`bot.money`); None is "unknown", never zero. A job keeps the
price it was admitted at (`price_micros` per `price_unit`), so a price changed in the catalog
later never rewrites what past jobs cost.

Settlement follows what the provider can have billed (docs/decisions/024):

- a job that never reached the provider (refused, or ended with no prediction id: canceled
  while queued, failed before or during its create) costs 0, exactly the jobs whose images
  the quotas leave out (`bot.storage.usage_log.COUNTED`);
- a price per request counts the request whatever its end: CometAPI charges the request it
  accepted, and a prediction that ran and failed or was canceled has run;
- a price per image counts the images the provider says it made: CometAPI's
  `metrics.image_count` when the status carries it, else the outputs it returned (a failed
  prediction with none costs 0);
- when the job ended before the provider said how it ended (timed out, canceled by us while
  running, lost), the estimate stands: the provider may still finish, and bill, it.
"""

from __future__ import annotations

PRICE_UNITS = ("image", "request")


def estimate_micros(price_micros: int | None, unit: str | None, images: int) -> int | None:
    """One request that asks for `images` images: per image × images, or the per-request price."""
    if price_micros is None or unit not in PRICE_UNITS:
        return None
    return price_micros * max(images, 1) if unit == "image" else price_micros


def settle_micros(
    *,
    price_micros: int | None,
    unit: str | None,
    estimated: int | None,
    reached_provider: bool,
    provider_images: int | None,
) -> int | None:
    """What an ended job costs (see the module doc for the rules and why)."""
    if not reached_provider:
        return 0
    if price_micros is None or unit not in PRICE_UNITS:
        return None
    if unit == "request":
        return price_micros
    if provider_images is not None:
        return price_micros * max(provider_images, 0)
    return estimated


__all__ = ["PRICE_UNITS", "estimate_micros", "settle_micros"]
