"""What /settings shows: limits with their defaults, role overrides, the term list that fits an
embed, the blocked members, and one sentence per refused value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from bot.catalog import load_catalog
from bot.edge.settings_view import (
    SHOWN_BLOCKED_USERS,
    limit_lines,
    refusal,
    settings_embed,
    show_term,
    terms_embed,
)
from bot.i18n import Messages
from bot.storage.blocked_terms import BlockedTerm, BlockedTermError
from bot.storage.guild_config import LIMIT_KINDS, BlockedUser, GuildConfig, RoleLimit
from bot.storage.guild_model import GuildConfigError

GUILD = 111_111_111_111_111_111
EN = "en-US"


@dataclass(frozen=True)
class Defaults:
    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 10
    user_max_active_jobs: int = 2
    default_model: str = "black-forest-labs/flux-schnell"
    bot_monthly_budget: Decimal = Decimal(0)


@pytest.fixture(scope="module")
def messages() -> Messages:
    return Messages.load()


def test_limit_lines_mark_defaults_and_list_only_a_roles_own_values(messages: Messages) -> None:
    """A server value replaces the default; a role shows the limits it overrides, no others;
    a value stored before the operator's ceilings shows as the value that applies, marked."""
    t = messages.t
    config = GuildConfig(
        GUILD,
        user_daily_limit=7,
        user_max_active_jobs=900,
        role_limits=(RoleLimit(GUILD, 5, user_cooldown_seconds=0),),
    )
    lines = limit_lines(messages, EN, config, Defaults())
    label = {code: t(EN, f"choice.settings.limit.kind.{code}") for code in LIMIT_KINDS}

    def default(value: str) -> str:
        return t(EN, "settings.bot_default", value=value)

    assert lines == [
        t(EN, "settings.limit_line", limit=label["user_daily"], value="7"),
        t(EN, "settings.limit_line", limit=label["guild_daily"], value=default(t(EN, "settings.no_limit"))),
        t(EN, "settings.limit_line", limit=label["cooldown"], value=default(t(EN, "common.seconds", seconds=10))),
        t(EN, "settings.limit_line", limit=label["active_jobs"], value=t(EN, "settings.capped", value="2")),
        t(EN, "settings.role_limit_line", role="<@&5>", limit=label["cooldown"], value=t(EN, "settings.capped", value=t(EN, "common.seconds", seconds=10))),
    ]  # fmt: skip


def test_the_term_list_stops_before_the_embed_is_full_and_counts_the_rest(
    messages: Messages,
) -> None:
    """Hundreds of long terms: the description stays under 4096 and says how many are hidden."""
    terms = [BlockedTerm(f"{i:03d}" + "x" * 90) for i in range(100)]
    embed = terms_embed(messages, EN, terms)
    description = embed.description or ""
    assert len(description) < 4096
    shown = description.count("• ")
    assert 0 < shown < 100
    assert description.endswith(messages.t(EN, "settings.blocked_terms.more", count=100 - shown))
    assert embed.title is not None and embed.title.endswith("· 100")
    assert show_term("a`b") == "``a`b``" and show_term("ab") == "`ab`"


def test_the_overview_lists_a_bounded_number_of_blocked_members(messages: Messages) -> None:
    """Past the shown number an ellipsis stands for the rest; the field name has the count."""
    blocked = [BlockedUser(GUILD, u, None, 0.0) for u in range(1, SHOWN_BLOCKED_USERS + 6)]
    embed = settings_embed(
        messages, load_catalog(), Defaults(), EN, GuildConfig(GUILD), term_count=3, blocked=blocked
    )
    fields = {f.name: f.value for f in embed.fields}
    users = fields[f"{messages.t(EN, 'settings.blocked_users')} · {len(blocked)}"] or ""
    assert users.count("<@") == SHOWN_BLOCKED_USERS and users.endswith("…")
    assert fields[messages.t(EN, "settings.blocked_terms")] == messages.t(
        EN, "settings.blocked_terms_count", count=3
    )
    assert fields[messages.t(EN, "settings.default_model")] == messages.t(
        EN, "settings.bot_default", value="FLUX schnell"
    )


@pytest.mark.parametrize(
    ("error", "key", "params"),
    [
        (
            GuildConfigError("limit_out_of_range", "x", setting="s", minimum=1, maximum=9),
            "settings.limit.out_of_range",
            {"min": 1, "max": 9},
        ),
        (
            GuildConfigError(
                "limit_above_operator", "x", setting="s", operator=5, minimum=1, maximum=5
            ),
            "settings.limit.above_operator",
            {"min": 1, "max": 5, "operator": 5},
        ),
        (
            GuildConfigError(
                "limit_below_operator", "x", setting="s", operator=5, minimum=5, maximum=9
            ),
            "settings.limit.below_operator",
            {"min": 5, "max": 9, "operator": 5},
        ),
        (
            GuildConfigError("limit_not_unlimited", "x", setting="s", minimum=1, maximum=9),
            "settings.limit.not_unlimited",
            {"min": 1, "max": 9},
        ),
        (GuildConfigError("limit_not_per_role", "x"), "settings.limit.role_not_supported", {}),
        (
            BlockedTermError("pattern_invalid", "x", error="bad"),
            "settings.blocked_terms.invalid_regex",
            {"error": "bad"},
        ),
        (
            BlockedTermError("too_many_terms", "x", limit=500),
            "settings.blocked_terms.too_many_terms",
            {"limit": 500},
        ),
    ],
)
def test_each_refused_value_has_its_sentence(
    messages: Messages, error: GuildConfigError, key: str, params: dict[str, object]
) -> None:
    """The store's error code picks a catalog key, and its data fills the placeholders."""
    found = refusal(error)
    assert (found.key, found.params) == (key, params)
    assert messages.has(EN, found.key)
