"""`python -m bot check`: validate everything that can be checked offline, secrets masked."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.catalog import Catalog, CatalogError, load_catalog
from bot.errors import StartupError
from bot.settings import Settings


def load_catalog_or_stop(settings: Settings) -> Catalog:
    """The model catalog (with MODELS_FILE merged in), or a StartupError naming the problem."""
    try:
        return load_catalog(settings.models_file)
    except CatalogError as exc:
        raise StartupError(str(exc)) from None


def check(settings: Settings, out: TextIO) -> int:
    """Print the settings (secrets masked) and the catalog size; exit code 0, or 2."""
    catalog = load_catalog_or_stop(settings)
    try:
        catalog.get(settings.default_model)
    except Exception:
        print(
            f"DEFAULT_MODEL {settings.default_model!r} is not in the model catalog: choose one "
            "listed by /models or add it with MODELS_FILE.",
            file=sys.stderr,
        )
        return 2
    width = max(len(name) for name, _ in settings.summary())
    for name, shown in settings.summary():
        print(f"{name.ljust(width)}  {shown}", file=out)
    print(f"{'MODELS'.ljust(width)}  {len(catalog.models())} in the catalog", file=out)
    unpriced = [m.id for m in catalog.models() if m.price is None]
    if settings.bot_monthly_budget and unpriced:
        # Not an error: the bot runs, but under a budget these models are refused.
        default = " (DEFAULT_MODEL among them)" if settings.default_model in unpriced else ""
        print(
            f"Warning: BOT_MONTHLY_BUDGET is set and {len(unpriced)} models have no price"
            f"{default}, so requests for them are refused: {', '.join(unpriced)}. Add their"
            " price (CometAPI's, with the day you read it) in MODELS_FILE.",
            file=out,
        )
    print("Configuration OK.", file=out)
    return 0
