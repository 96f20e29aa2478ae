-- Why a session was ended (issue 14): 'servicedesk' (ended by the
-- servicedesk), 'not_me' or 'other_sessions_ended' (by the person from
-- another device), 'password', 'reset', 'signed_out'; empty for timeouts and
-- sessions ended before this column. The next page the ended session asks
-- for says why, once.
ALTER TABLE sessions ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
