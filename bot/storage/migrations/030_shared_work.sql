-- Several processes share the work (issue 11; docs/decisions/011-work-sharing.md).
--
-- A Cancel click lands on the process that runs the server's shard, which may not be the one
-- running the job. It records the request here; the job's lease owner sees it within a second
-- and cancels (or whoever takes the job over does).
ALTER TABLE jobs ADD COLUMN cancel_requested_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN cancel_requested_by BIGINT;
-- When a process first asked for a global slot for this queued job and was refused. A slot
-- freed anywhere goes to the job that has waited longest, so no process's queue starves.
ALTER TABLE jobs ADD COLUMN slot_requested_at DOUBLE PRECISION;
-- Owners look for cancel requests on their jobs every second: only requested rows are indexed.
CREATE INDEX jobs_cancel_requested ON jobs (lease_owner) WHERE cancel_requested_at IS NOT NULL;
-- The takeover scan looks for finished jobs whose user was never told: a short list, however
-- long the history of failures.
CREATE INDEX jobs_untold ON jobs (id) WHERE notified = 0 AND status IN ('failed', 'canceled', 'timed_out', 'expired');
