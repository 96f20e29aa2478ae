-- Per-account budgets for codes and resets (issue 10 H1, L1) count an
-- account's recent challenges on every send.
CREATE INDEX code_challenges_by_user ON code_challenges (organisation_id, user_id, created_at);
