-- The operator's limits are ceilings for the whole bot (issue 15; docs/decisions/015): admission
-- now also counts a user's images today in every server and DM (USER_DAILY_LIMIT), and, when
-- BOT_DAILY_LIMIT is set, every image today. Covering indexes answer both without touching the
-- table, as migration 020's do for the per-server counts. The new user index starts with
-- (user_id, created_at), so it serves everything jobs_user_created did; that one goes.
CREATE INDEX jobs_user_usage ON jobs (user_id, created_at, status, image_count, prediction_id);
DROP INDEX jobs_user_created;
CREATE INDEX jobs_day_usage ON jobs (created_at, status, image_count, prediction_id);
-- The same two counts over what /forget-me left behind (its primary key leads with guild_id).
CREATE INDEX anonymous_usage_user_day ON anonymous_usage (user_hash, day);
CREATE INDEX anonymous_usage_day ON anonymous_usage (day);
