-- Jobs: one row per request, accepted or refused (the usage log reads this table).
CREATE TABLE jobs (
    id {{id}},
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    guild_id BIGINT,
    channel_id BIGINT,
    locale TEXT NOT NULL DEFAULT 'en-US',
    application_id BIGINT,
    interaction_id BIGINT,
    interaction_token TEXT,
    token_expires_at DOUBLE PRECISION,
    message_id BIGINT,
    parent_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    input_json TEXT NOT NULL DEFAULT '{}',
    image_count INTEGER NOT NULL DEFAULT 0,
    prediction_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    submitted_at DOUBLE PRECISION,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    delivered_at DOUBLE PRECISION,
    deadline_at DOUBLE PRECISION,
    provider_seconds DOUBLE PRECISION,
    output_count INTEGER NOT NULL DEFAULT 0,
    error_kind TEXT,
    error_message TEXT,
    refusal_reason TEXT,
    refusal_detail TEXT,
    result_message_id BIGINT,
    result_attachments_json TEXT,
    delivery_method TEXT,
    notified INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at DOUBLE PRECISION
);
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_user_created ON jobs (user_id, created_at);
CREATE INDEX jobs_guild_created ON jobs (guild_id, created_at);
CREATE INDEX jobs_prediction ON jobs (prediction_id);
-- Every status transition with its time, written in the same transaction as the change.
CREATE TABLE job_events (
    id {{id}},
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    detail TEXT
);
CREATE INDEX job_events_job ON job_events (job_id);
