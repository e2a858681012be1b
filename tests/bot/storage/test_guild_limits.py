"""The limit declarations: each kind names real columns and fields, and its bounds hold."""

from __future__ import annotations

from dataclasses import fields

import pytest

from bot.policy.admission import DefaultLimits
from bot.settings import Settings
from bot.storage import Database
from bot.storage.guild_limits import (
    LIMIT_KINDS,
    MAX_COOLDOWN_SECONDS,
    ROLE_FIELDS,
    LimitKind,
    limit_kind,
)
from bot.storage.guild_model import GuildConfig, GuildConfigError, RoleLimit


def names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


async def test_each_kind_names_the_columns_and_fields_it_is_read_from(database: Database) -> None:
    """A kind's column is a guild_settings column, a GuildConfig field and an environment
    default; its role field a guild_role_limits column and a RoleLimit field."""
    for kind in LIMIT_KINDS.values():
        assert kind.column in names(GuildConfig) & names(Settings) & names(DefaultLimits)
        await database.fetchall(f"SELECT {kind.column} FROM guild_settings")
        if kind.role_field is not None:
            assert kind.role_field in names(RoleLimit)
            await database.fetchall(f"SELECT {kind.role_field} FROM guild_role_limits")
    assert set(ROLE_FIELDS) == names(RoleLimit) - {"guild_id", "role_id"}
    assert list(LIMIT_KINDS) == ["user_daily", "guild_daily", "cooldown", "active_jobs"]
    assert [k.code for k in LIMIT_KINDS.values() if k.seconds] == ["cooldown"]


@pytest.mark.parametrize("kind", LIMIT_KINDS.values(), ids=lambda k: k.code)
def test_values_from_one_to_the_maximum_are_accepted_where_the_operator_set_none(
    kind: LimitKind,
) -> None:
    """1, the maximum and None (back to the operator's value) pass unchanged."""
    assert [kind.check(v) for v in (1, kind.maximum, None)] == [1, kind.maximum, None]


@pytest.mark.parametrize("kind", LIMIT_KINDS.values(), ids=lambda k: k.code)
@pytest.mark.parametrize("offset", ["below", "above", "bool"])
def test_values_out_of_bounds_are_refused_with_the_bounds(kind: LimitKind, offset: str) -> None:
    """Negative, past the maximum or not a whole number: refused, the bounds in the error."""
    value = {"below": -1, "above": kind.maximum + 1, "bool": True}[offset]
    with pytest.raises(GuildConfigError) as caught:
        kind.check(value)
    assert caught.value.code == "limit_out_of_range"
    assert caught.value.params == {"setting": kind.column, "minimum": 1, "maximum": kind.maximum}
    assert f"from 1 to {kind.maximum}" in str(caught.value)


@pytest.mark.parametrize("kind", LIMIT_KINDS.values(), ids=lambda k: k.code)
def test_no_limit_is_the_operators_choice_alone(kind: LimitKind) -> None:
    """0 ("no limit") is refused from a server, whatever the operator's value."""
    for operator in (0, 5):
        with pytest.raises(GuildConfigError) as caught:
            kind.check(0, operator)
        expected = (
            "limit_not_unlimited"
            if operator == 0
            else ("limit_below_operator" if kind.seconds else "limit_above_operator")
        )
        assert caught.value.code == expected


@pytest.mark.parametrize("kind", LIMIT_KINDS.values(), ids=lambda k: k.code)
def test_each_limit_at_the_operators_boundary(kind: LimitKind) -> None:
    """At the operator's value a server's value passes; one step looser is refused and names
    the operator's value; stricter values pass."""
    operator = 30
    stricter, looser = (31, 29) if kind.seconds else (29, 31)
    assert kind.check(operator, operator) == operator
    assert kind.check(stricter, operator) == stricter
    with pytest.raises(GuildConfigError) as caught:
        kind.check(looser, operator)
    assert caught.value.params["operator"] == operator
    assert str(operator) in str(caught.value)


@pytest.mark.parametrize("kind", LIMIT_KINDS.values(), ids=lambda k: k.code)
def test_stored_values_are_read_within_the_operators(kind: LimitKind) -> None:
    """Not set or 0 (stored before the ceilings) reads as the operator's value; a looser value
    as the operator's; a stricter one as itself; with no operator value, as stored."""
    stricter, looser = (45, 15) if kind.seconds else (15, 45)
    assert [kind.effective(v, 30) for v in (None, 0, stricter, looser)] == [30, 30, stricter, 30]
    assert [kind.effective(v, 0) for v in (None, 0, 15, 45)] == [0, 0, 15, 45]


def test_a_cooldown_is_at_most_a_day_and_unknown_kinds_are_an_error() -> None:
    """The cooldown bound is the one admission's look-back window relies on."""
    assert limit_kind("cooldown").maximum == MAX_COOLDOWN_SECONDS == 86_400
    with pytest.raises(ValueError, match="weekly"):
        limit_kind("weekly")
