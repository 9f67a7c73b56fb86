-- Retry jobs leave jobs_tenant_state and jobs_action_state: their lists,
-- deletes and counts are served by jobs_retry_list and
-- jobs_retry_action_list (0013), so two index entries fewer for every
-- job that fails, is retried or is deleted from the retry set.
DROP INDEX jobs_tenant_state;
DROP INDEX jobs_action_state;
CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state, created_at, id) WHERE state <> 1 AND state <> 2;
CREATE INDEX jobs_action_state ON jobs (tenant_id, action_id, state, created_at, id) WHERE state <> 1 AND state <> 2;
