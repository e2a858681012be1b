-- What a job's request was made of, kept with the job so the pending message, the result,
-- Info and a delivery after a restart all tell the same story (issue 20):
-- the server style it used (its name at the time; the final prompt is in prompt and input),
ALTER TABLE jobs ADD COLUMN style TEXT;
-- whether its images are uploaded as spoilers (decided once, at the request),
ALTER TABLE jobs ADD COLUMN spoiler INTEGER NOT NULL DEFAULT 0;
-- and the preferences it could not use, with why: a JSON list of {"setting", "reason", ...}.
ALTER TABLE jobs ADD COLUMN notes_json TEXT;
-- A server's spoiler rule: 'off', 'on' (every result) or 'nsfw-only' (in age-restricted
-- channels). A member's own spoiler option can add a spoiler, never take one away.
ALTER TABLE guild_settings ADD COLUMN spoiler_mode TEXT NOT NULL DEFAULT 'off';
