-- Sign-in lockout bookkeeping: failed attempts recorded up to and including
-- this login_activities id no longer count towards a lockout (set on a
-- successful sign-in, when a lock starts and when an admin unlocks).
ALTER TABLE users ADD COLUMN failed_logins_after BIGINT NOT NULL DEFAULT 0;
CREATE INDEX login_activities_user_failed ON login_activities (user_id, id) WHERE success = FALSE;
