-- A server's named styles (issue 20): a prompt template with one {prompt}, and optionally the
-- model and aspect ratio the style prefers. At most 25 per server (Discord's autocomplete
-- shows 25); a name is unique in its server whatever its case (name_key is its casefold).
-- added_by is cleared by /forget-me, like a blocked term's.
CREATE TABLE guild_styles (
    id {{id}},
    guild_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    template TEXT NOT NULL,
    model TEXT,
    aspect_ratio TEXT,
    added_by BIGINT,
    added_at DOUBLE PRECISION NOT NULL,
    UNIQUE (guild_id, name_key)
);
