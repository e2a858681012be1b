-- What each job costs (issue #21; docs/decisions/024-costs-and-budgets.md). Money is whole
-- micro-dollars (BIGINT): sums stay exact on both backends. NULL is "unknown", never 0.
--
-- price_micros / price_unit: the model's price when the job was admitted ('image' or
-- 'request'), so a later change of the catalog never rewrites what past jobs cost.
ALTER TABLE jobs ADD COLUMN price_micros BIGINT;
ALTER TABLE jobs ADD COLUMN price_unit TEXT;
-- What the request was expected to cost when it was admitted (the images it asked for).
ALTER TABLE jobs ADD COLUMN cost_estimated_micros BIGINT;
-- What the job counts now: the estimate while it runs, the settled figure from its end on
-- (bot.jobs.costs), 0 for the jobs the image quotas do not count either. Spend is SUM of it.
ALTER TABLE jobs ADD COLUMN cost_micros BIGINT;
-- How many images the provider said it made (metrics.image_count, else the outputs), written
-- when the provider reported the prediction's end; NULL when it never did (timed out, ...).
ALTER TABLE jobs ADD COLUMN provider_images INTEGER;
-- Jobs from before this migration: those that never reached the provider cost nothing; the
-- others keep NULL, since no price was recorded for them (reported as unknown, not free).
UPDATE jobs SET cost_micros = 0 WHERE status = 'refused' OR (status IN ('failed', 'canceled', 'timed_out', 'expired') AND prediction_id IS NULL);
-- Month sums per server, per member in a server, and for the whole bot are answered from the
-- covering indexes admission already reads (migrations 020 and 041), each with the cost added.
DROP INDEX jobs_user_guild_usage;
CREATE INDEX jobs_user_guild_usage ON jobs (user_id, guild_id, created_at, status, image_count, prediction_id, cost_micros);
DROP INDEX jobs_guild_usage;
CREATE INDEX jobs_guild_usage ON jobs (guild_id, created_at, status, image_count, prediction_id, cost_micros);
DROP INDEX jobs_day_usage;
CREATE INDEX jobs_day_usage ON jobs (created_at, status, image_count, prediction_id, cost_micros);
-- What /forget-me folds away keeps its cost, so server and bot totals (and budgets) stay true.
ALTER TABLE anonymous_usage ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE anonymous_usage ADD COLUMN unknown_jobs INTEGER NOT NULL DEFAULT 0;
