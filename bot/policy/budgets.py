"""Budgets: the money a member, a server and the whole bot may spend per calendar month (UTC).

Admission runs these checks inside its one transaction (docs/decisions/024), after the daily
image limits: a request is refused when its estimated cost would take a month's known spend
(the estimate of every job still running plus the settled cost of every finished one, with
/forget-me's counters) past a budget. The server's and the member's spend come from the
admission snapshot, under the server's lock; the bot's is read under `admit-bot`, which the
caller takes only when BOT_MONTHLY_BUDGET (or BOT_DAILY_LIMIT) is set.

A model without a price cannot be checked against a budget, so while any budget applies such a
request is refused (`budget_unpriced`): a budget that admits what it cannot price does not hold.

Notices (80 % and 100 % of a server's or the bot's budget; a model refused for having no price)
are recorded in `budget_notices` in the same transaction as the job row, so each is given once
a month across processes; after the commit, listeners (the Discord edge's log channel) hear the
new ones. 100 % is given when the spend reaches the budget, or when the budget first refuses a
request (what is left is less than that request's cost).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.jobs.model import NewJob
from bot.money import format_usd, usd_to_micros
from bot.policy.limits import LimitDefaults, Verdict
from bot.storage.base import Database
from bot.storage.guild_budgets import effective_guild_budget, effective_member_budget
from bot.storage.guild_model import GuildConfig
from bot.storage.usage import AdmissionSnapshot
from bot.storage.usage_log import month_key, next_month_start

log = logging.getLogger(__name__)

NOTICE_PERCENT = 80
BOT_SCOPE = "bot"


@dataclass(frozen=True)
class BudgetNotice:
    """A notice to give once a month: `kind` "80", "100" or "unpriced" (of `model`).

    `guild_id` None: the operator's budget (the bot's, or a direct message's request).
    """

    guild_id: int | None
    kind: str
    month: str
    spent: int = 0  # micro-dollars, this request's estimate included when it was admitted
    budget: int = 0
    reset: float = 0.0  # the next month's first second (UTC)
    model: str | None = None

    @property
    def scope(self) -> str:
        return BOT_SCOPE if self.guild_id is None else str(self.guild_id)

    @property
    def key(self) -> str:
        return f"unpriced:{self.model}" if self.kind == "unpriced" else self.kind


BudgetListener = Callable[[BudgetNotice], None]


class Budgets:
    """The budget checks and their notices; one per Admission."""

    def __init__(self, defaults: LimitDefaults) -> None:
        self.defaults = defaults
        self._listeners: list[BudgetListener] = []

    @property
    def bot_budget(self) -> int:
        """BOT_MONTHLY_BUDGET in micro-dollars (0: none)."""
        return usd_to_micros(self.defaults.bot_monthly_budget)

    # ----- the checks (the caller holds the locks) ---------------------------------------

    def check_place(
        self,
        new: NewJob,
        config: GuildConfig | None,
        snap: AdmissionSnapshot,
        now: float,
        notices: list[BudgetNotice],
    ) -> Verdict | None:
        """The price known under any budget, then the member's and the server's budgets.

        `config` None: a direct message (only the bot's budget applies). Notices to record are
        appended to `notices`.
        """
        bot = self.bot_budget
        guild = effective_guild_budget(config, bot) if config else 0
        member = effective_member_budget(config, bot) if config else 0
        cost = new.cost_estimate
        reset = next_month_start(now)
        if cost is None:
            if not (bot or guild or member):
                return None  # no budget: the job is admitted and its cost counted as unknown
            gid = config.guild_id if config else None
            notices.append(BudgetNotice(gid, "unpriced", month_key(now), model=new.model))
            return Verdict("budget_unpriced", {"model": new.model}, _detail({"model": new.model}))
        if member and snap.member_spend + cost > member:
            return _refusal("member_monthly_budget", member, snap.member_spend, cost, reset)
        if guild and config is not None:
            spent = snap.guild_spend
            if spent + cost > guild:
                notices.append(
                    BudgetNotice(config.guild_id, "100", month_key(now), spent, guild, reset)
                )
                return _refusal("guild_monthly_budget", guild, spent, cost, reset)
            notices.extend(_levels(config.guild_id, spent + cost, guild, now))
        return None

    def check_bot(
        self, new: NewJob, spent: int, now: float, notices: list[BudgetNotice]
    ) -> Verdict | None:
        """The bot's budget, with its month's spend read under `admit-bot`."""
        bot, cost = self.bot_budget, new.cost_estimate
        if not bot or cost is None:  # an unpriced request never gets here under a budget
            return None
        if spent + cost > bot:
            reset = next_month_start(now)
            notices.append(BudgetNotice(None, "100", month_key(now), spent, bot, reset))
            figures = {"budget": bot, "spent": spent, "cost": cost}
            # The member is told when it resets; the figures stay in the log for the operator.
            return Verdict("bot_monthly_budget", {"reset_day": reset}, _detail(figures))
        notices.extend(_levels(None, spent + cost, bot, now))
        return None

    # ----- notices -------------------------------------------------------------------------

    async def record(
        self, tx: Database, notices: list[BudgetNotice], now: float
    ) -> list[BudgetNotice]:
        """Record each notice not given yet this month; return those to announce.

        Written in the admission's transaction: across processes exactly one admission
        records a notice. When 80 % and 100 % are passed at once, only 100 % is announced.
        """
        new: list[BudgetNotice] = []
        for notice in notices:
            inserted = await tx.execute(
                "INSERT INTO budget_notices (scope, month, kind, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (scope, month, kind) DO NOTHING",
                notice.scope,
                notice.month,
                notice.key,
                now,
            )
            if inserted:
                new.append(notice)
        full = {n.scope for n in new if n.kind == "100"}
        return [n for n in new if not (n.kind == "80" and n.scope in full)]

    def subscribe(self, listener: BudgetListener) -> Callable[[], None]:
        """Call `listener` (synchronously; it must not block) for each notice, after commit."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def announce(self, notices: list[BudgetNotice]) -> None:
        for notice in notices:
            where = "the bot" if notice.guild_id is None else f"guild {notice.guild_id}"
            if notice.kind == "unpriced":
                log.warning(
                    "%s: %s has no price in the catalog and was refused under a budget; set its"
                    " price in MODELS_FILE",
                    where,
                    notice.model,
                )
            else:
                log.warning(
                    "%s: %s%% of the monthly budget reached (%s of %s)",
                    where,
                    notice.kind,
                    format_usd(notice.spent),
                    format_usd(notice.budget),
                )
            for listener in list(self._listeners):
                try:
                    listener(notice)
                except Exception:
                    # A listener's failure must not fail the request that was just admitted.
                    log.exception("a listener for budget notices failed")


def _levels(guild_id: int | None, total: int, budget: int, now: float) -> list[BudgetNotice]:
    """The notices a month's spend of `total` has earned (integer arithmetic: no rounding)."""
    reset, month = next_month_start(now), month_key(now)
    found = []
    if total * 100 >= budget * NOTICE_PERCENT:
        found.append(BudgetNotice(guild_id, "80", month, total, budget, reset))
    if total >= budget:
        found.append(BudgetNotice(guild_id, "100", month, total, budget, reset))
    return found


def _refusal(reason: str, budget: int, spent: int, cost: int, reset: float) -> Verdict:
    figures = {"budget": budget, "spent": spent, "cost": cost}
    return Verdict(reason, {**figures, "reset_day": reset}, _detail(figures))


def _detail(params: Mapping[str, object]) -> str:
    return json.dumps(params, sort_keys=True)


__all__ = ["BudgetListener", "BudgetNotice", "Budgets"]
