"""Policy: who may ask, how much, and what: admission, quotas, moderation, usage reports."""

from bot.policy.admission import (
    REFUSAL_REASONS,
    Admission,
    DefaultLimits,
    EffectiveLimits,
    LimitDefaults,
    Refusal,
    RequestContext,
)
from bot.policy.moderation import (
    BlockedTerm,
    BlockedTermError,
    TermCache,
    compile_terms,
    match_blocked_term,
    normalize,
)
from bot.policy.usage import (
    CSV_COLUMNS,
    AnonymousTotals,
    GuildUsage,
    UsageReport,
    UserUsage,
    input_policy_for,
    unescape_cell,
)
from bot.storage.anonymous_usage import ForgetReport

__all__ = [
    "CSV_COLUMNS",
    "REFUSAL_REASONS",
    "Admission",
    "AnonymousTotals",
    "BlockedTerm",
    "BlockedTermError",
    "DefaultLimits",
    "EffectiveLimits",
    "ForgetReport",
    "GuildUsage",
    "LimitDefaults",
    "Refusal",
    "RequestContext",
    "TermCache",
    "UsageReport",
    "UserUsage",
    "compile_terms",
    "input_policy_for",
    "match_blocked_term",
    "normalize",
    "unescape_cell",
]
