-- The per-file upload limit the interaction reported (bytes), so a result delivered after a
-- restart is still fitted to what that channel accepts.
ALTER TABLE jobs ADD COLUMN upload_limit BIGINT;
