-- Retention (issue 16; docs/decisions/017-retention.md). When a finished job's prompt, input
-- and details were erased (RETENTION_DAYS after it ended); NULL while they are kept.
ALTER TABLE jobs ADD COLUMN erased_at DOUBLE PRECISION;
-- The daily sweep looks only at rows not erased yet, oldest ending first: the index holds just
-- those, so it stays small however long the history.
CREATE INDEX jobs_unerased_finished ON jobs (finished_at) WHERE erased_at IS NULL;
