"""Money is whole micro-dollars: exact sums, prices rounded up, budgets in cents, and amounts
shown with cents (finer digits only when there are)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.money import (
    MAX_BUDGET_MICROS,
    Spend,
    format_usd,
    micros_to_usd,
    parse_budget,
    usd_text,
    usd_to_micros,
)


def test_prices_become_micro_dollars_rounded_up_never_down() -> None:
    """$0.192 is 192,000 µ$; a price finer than a micro-dollar counts the next one up."""
    assert usd_to_micros(Decimal("0.192")) == 192_000
    assert usd_to_micros(Decimal("0.003")) == 3_000
    assert usd_to_micros(Decimal("0.0000001")) == 1
    assert usd_to_micros(Decimal("12.5")) == 12_500_000
    assert micros_to_usd(192_000) == Decimal("0.192")


def test_a_thousand_small_sums_add_up_exactly() -> None:
    """Floats would drift; integer micro-dollars do not ($0.003 × 1000 = $3.00)."""
    total = sum(usd_to_micros(Decimal("0.003")) for _ in range(1000))
    assert total == 3_000_000 and format_usd(total) == "$3.00"
    assert sum([0.003] * 1000) != 3.0  # why money is never a float here


def test_amounts_are_shown_with_cents_and_finer_digits_only_when_there_are() -> None:
    """`$0.00`, `$1.23`, `$12.00`; `$0.192` and `$0.003` keep their digits; plain for files."""
    assert [format_usd(m) for m in (0, 1_230_000, 12_000_000, 192_000, 3_000)] == [
        "$0.00",
        "$1.23",
        "$12.00",
        "$0.192",
        "$0.003",
    ]
    assert [usd_text(m) for m in (0, 192_000, 12_500_000)] == ["0", "0.192", "12.5"]


@pytest.mark.parametrize("raw", ["25", "12.50", 12.5, 7, "0", "0.01"])
def test_budgets_take_dollars_and_cents(raw: object) -> None:
    """A budget as typed (string, float from Discord, int) becomes exact micro-dollars."""
    assert parse_budget(raw) == usd_to_micros(Decimal(str(raw)))  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["12.505", "-1", "ten", "nan", "inf", "$5", True, "1000000.01"])
def test_a_budget_that_is_not_dollars_and_cents_is_refused_with_a_reason(raw: object) -> None:
    """Finer than a cent, negative, not a number, or above $1,000,000: one sentence why."""
    with pytest.raises(ValueError) as caught:
        parse_budget(raw)  # type: ignore[arg-type]
    assert str(caught.value) and "\n" not in str(caught.value)
    assert parse_budget("1000000") == MAX_BUDGET_MICROS


def test_spend_keeps_jobs_of_unknown_price_beside_the_known_sum() -> None:
    """Adding spends adds both parts; the text never turns unknown into $0."""
    total = Spend(1_230_000, 1) + Spend(0, 3)
    assert total == Spend(1_230_000, 4)
    assert total.text == "$1.23 + 4 jobs of unknown price"
    assert Spend(500_000).text == "$0.50"
