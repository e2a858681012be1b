-- Per-server policy (/settings), the block lists, and the anonymous usage counters that keep
-- quotas honest after /forget-me. See docs/decisions/007-quotas-in-one-transaction.md.
--
-- One row per server that changed anything; a server without a row uses the environment's
-- defaults. NULL in a limit column means "use the environment default"; 0 means "no limit"
-- (for cooldown: no cooldown). The allow lists are JSON arrays of ids kept in the row because
-- they are short and always read together with it (one indexed read per admission); an empty
-- array means everyone. terms_version is bumped with every blocked-term change so each
-- process can keep its compiled terms until the number moves.
CREATE TABLE guild_settings (
    guild_id BIGINT PRIMARY KEY,
    allowed_channel_ids TEXT NOT NULL DEFAULT '[]',
    allowed_role_ids TEXT NOT NULL DEFAULT '[]',
    user_daily_limit INTEGER,
    guild_daily_limit INTEGER,
    user_cooldown_seconds INTEGER,
    user_max_active_jobs INTEGER,
    allow_nsfw INTEGER NOT NULL DEFAULT 0,
    log_channel_id BIGINT,
    default_model TEXT,
    terms_version INTEGER NOT NULL DEFAULT 0,
    updated_at DOUBLE PRECISION NOT NULL
);
-- A role's limits inside one server. NULL = the role does not change that limit; 0 = no limit.
-- A member gets the best of the server's value and every override of the roles they hold.
CREATE TABLE guild_role_limits (
    guild_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    user_daily_limit INTEGER,
    user_cooldown_seconds INTEGER,
    user_max_active_jobs INTEGER,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);
-- Blocked words, phrases and /patterns/, exactly as a moderator typed them.
CREATE TABLE guild_blocked_terms (
    id {{id}},
    guild_id BIGINT NOT NULL,
    term TEXT NOT NULL,
    is_pattern INTEGER NOT NULL DEFAULT 0,
    added_by BIGINT,
    added_at DOUBLE PRECISION NOT NULL,
    UNIQUE (guild_id, term)
);
CREATE TABLE guild_blocked_users (
    guild_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    blocked_by BIGINT,
    blocked_at DOUBLE PRECISION NOT NULL,
    reason TEXT,
    PRIMARY KEY (guild_id, user_id)
);
-- What survives /forget-me. day is the UTC date (YYYY-MM-DD); guild_id 0 stands for DMs.
-- user_hash is a salted SHA-256 of the user id, kept only for today and yesterday (enough for
-- the daily quota and a cooldown that spans midnight); older rows are folded into the row with
-- user_hash '' (a server-wide total that names nobody).
CREATE TABLE anonymous_usage (
    day TEXT NOT NULL,
    guild_id BIGINT NOT NULL,
    user_hash TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    images INTEGER NOT NULL DEFAULT 0,
    provider_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_request_at DOUBLE PRECISION,
    PRIMARY KEY (guild_id, user_hash, day)
);
CREATE INDEX anonymous_usage_guild_day ON anonymous_usage (guild_id, day);
-- The salt of user_hash: one random value per installation, made on first use.
CREATE TABLE anonymous_salt (
    id INTEGER PRIMARY KEY,
    salt TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
-- Admission reads these on every request, before Discord's acknowledgement, so each of its
-- queries is answered from one index without touching the table (covering indexes):
-- a user's active jobs (and /forget-me's selection of finished rows),
CREATE INDEX jobs_user_status ON jobs (user_id, status);
-- a user's requests and counted images in one server since a time (cooldown, daily images),
CREATE INDEX jobs_user_guild_usage ON jobs (user_id, guild_id, created_at, status, image_count, prediction_id);
-- and a server's counted images today (the server's daily cap).
CREATE INDEX jobs_guild_usage ON jobs (guild_id, created_at, status, image_count, prediction_id);
