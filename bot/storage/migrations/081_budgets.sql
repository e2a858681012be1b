-- Monthly budgets (issue #21; docs/decisions/024-costs-and-budgets.md), in micro-dollars.
-- A server's own monthly budget and its per-member monthly budget; NULL = none. The operator's
-- BOT_MONTHLY_BUDGET lives in the environment and bounds both.
ALTER TABLE guild_settings ADD COLUMN monthly_budget_micros BIGINT;
ALTER TABLE guild_settings ADD COLUMN member_budget_micros BIGINT;
-- Notices already given (80 % and 100 % of a budget, a model without a price under a budget):
-- written in the admission's own transaction, so each is given once per month across every
-- process. scope is a server id, or 'bot' for the operator's budget; month is YYYY-MM (UTC).
CREATE TABLE budget_notices (
    scope TEXT NOT NULL,
    month TEXT NOT NULL,
    kind TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, month, kind)
);
-- What a member who ran /forget-me spent in a server this month (salted hash as in
-- anonymous_usage), so forgetting does not reset a per-member budget. Only the current month
-- is kept: older rows are deleted by the same prune that folds anonymous_usage.
CREATE TABLE anonymous_member_spend (
    month TEXT NOT NULL,
    guild_id BIGINT NOT NULL,
    user_hash TEXT NOT NULL,
    cost_micros BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_hash, month)
);
