-- The operator's block list (`python -m bot block USER_ID`; issue 15). A user listed here may
-- not use the bot anywhere: in no server and no DM, whatever a server's settings say. Admission
-- reads it inside its transaction, so a block applies from the next request, in every process,
-- without a restart. Unlike a server's block it names no moderator: the operator runs it.
CREATE TABLE operator_blocked_users (
    user_id BIGINT PRIMARY KEY,
    blocked_at DOUBLE PRECISION NOT NULL,
    reason TEXT
);
