-- Admin job lists in the order queue dashboards show: retry jobs by next
-- retry time (soonest first), dead jobs by time of death (newest first),
-- the id breaking ties, tenant-wide and for one action. Partial indexes, so
-- only jobs in those states pay for them. jobs_dead gains the id so that
-- the dead list is read straight from it, backwards.
CREATE INDEX jobs_retry_list ON jobs (tenant_id, run_at, id) WHERE state = 2;
CREATE INDEX jobs_retry_action_list ON jobs (tenant_id, action_id, run_at, id) WHERE state = 2;
DROP INDEX jobs_dead;
CREATE INDEX jobs_dead ON jobs (tenant_id, died_at, id) WHERE state = 3;
CREATE INDEX jobs_dead_action ON jobs (tenant_id, action_id, died_at, id) WHERE state = 3;

-- An organisation imported through Tyk's POST /admin/organisations/import
-- keeps the 24-hex id it was exported with (a Tyk ObjectId, which does not
-- fit Steward's integer ids). NULL for every other tenant, whose Tyk id is
-- its integer id in hex. Such ids never start with eight zeros, as every
-- id Steward derives does, so the two never meet.
ALTER TABLE tenants ADD COLUMN tyk_id TEXT;
CREATE UNIQUE INDEX tenants_tyk_id ON tenants (tyk_id);
