"""Money as whole micro-dollars: what a job costs, what was spent, what a budget allows.

Every amount the bot stores or adds up is an `int` of millionths of a US dollar (BIGINT in the
database), never a float: a month of sums must come out to the cent, and integers add exactly
on both backends. A price read from the catalog (a `Decimal`) becomes micro-dollars once, when a
job is admitted; a price finer than a micro-dollar is rounded up, so the bot never counts less
than the provider could charge. Decimals appear again only to show an amount.

`None` is "unknown" (a model without a price), never zero: `Spend` keeps the known sum and the
number of jobs of unknown price side by side, so a report can say "$1.23 + 4 jobs of unknown
price" instead of counting those jobs as free.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

MICROS_PER_USD = 1_000_000
_MICRO = Decimal(1) / MICROS_PER_USD
# A budget of more than this is a typo, not a plan (a server's or the operator's).
MAX_BUDGET_MICROS = 1_000_000 * MICROS_PER_USD


def usd_to_micros(usd: Decimal) -> int:
    """A price or an amount in dollars as micro-dollars, rounded up to a whole micro-dollar."""
    return int((usd / _MICRO).to_integral_value(rounding=ROUND_CEILING))


def micros_to_usd(micros: int) -> Decimal:
    """Micro-dollars as an exact Decimal of dollars (trailing zeros removed, never exponent)."""
    value = Decimal(micros) * _MICRO
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def usd_text(micros: int) -> str:
    """`0.192`, `12.5`, `0`: a plain number for files (the CSV) and the command line."""
    return format(micros_to_usd(micros), "f")


def format_usd(micros: int) -> str:
    """`$1.23`, `$0.192`, `$0.003`, `$12.00`: cents always, finer digits only when there are."""
    value = micros_to_usd(micros)
    cents = value.quantize(Decimal("0.01"))
    text = format(cents if cents == value else value, "f")
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def parse_budget(raw: str | float | int | Decimal) -> int:
    """A budget as typed (`25`, `12.50`) in micro-dollars; ValueError says what is wrong.

    Whole cents only: a budget is an amount of money someone decides on, and a figure finer
    than a cent is almost always a slip. 0 is allowed here (it means "no budget" to callers).
    """
    if isinstance(raw, bool):
        raise ValueError("a budget is an amount in US dollars such as 25 or 12.50")
    try:
        amount = Decimal(raw if isinstance(raw, str | Decimal | int) else repr(raw))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{raw!r} is not an amount in US dollars such as 25 or 12.50") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{raw!r} is not an amount of zero or more US dollars")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{raw!r} has more digits than cents; write it as 12.50")
    micros = usd_to_micros(amount)
    if micros > MAX_BUDGET_MICROS:
        raise ValueError(f"{raw!r} is more than {format_usd(MAX_BUDGET_MICROS)}")
    return micros


@dataclass(frozen=True)
class Spend:
    """A sum of costs: the known micro-dollars, and how many jobs had no known price."""

    micros: int = 0
    unknown_jobs: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.micros + other.micros, self.unknown_jobs + other.unknown_jobs)

    @property
    def text(self) -> str:
        """`$1.23`, or `$1.23 + 4 jobs of unknown price` (English: the CLI and logs)."""
        if not self.unknown_jobs:
            return format_usd(self.micros)
        jobs = "job" if self.unknown_jobs == 1 else "jobs"
        return f"{format_usd(self.micros)} + {self.unknown_jobs} {jobs} of unknown price"


__all__ = [
    "MAX_BUDGET_MICROS",
    "MICROS_PER_USD",
    "Spend",
    "format_usd",
    "micros_to_usd",
    "parse_budget",
    "usd_text",
    "usd_to_micros",
]
