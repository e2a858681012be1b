-- A member's own defaults (issue 20; docs/decisions/022-preferences-and-styles.md): what
-- /imagine uses for an option the command leaves out, before the server's default. One row
-- per member who set any; NULL means "no preference" for that setting. Keyed by the user
-- alone: preferences follow the member into every server and DM. /forget-me deletes the row.
CREATE TABLE member_preferences (
    user_id BIGINT PRIMARY KEY,
    model TEXT,
    aspect_ratio TEXT,
    output_format TEXT,
    quality INTEGER,
    image_count INTEGER,
    prompt_suffix TEXT,
    updated_at DOUBLE PRECISION NOT NULL
);
