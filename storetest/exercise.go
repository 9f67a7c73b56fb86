package storetest

import (
	"testing"

	"github.com/steward-dev/steward/sqlstore"
)

// Opener returns a new, migrated, empty database for one test, closed
// when the test ends.
type Opener func(t *testing.T) *sqlstore.DB

// Exercise is the conformance suite every store must pass: each driver
// package's own test calls it with a way to open a fresh database (as
// River's riverdrivertest.Exercise does), and each case runs in parallel
// on a database of its own.
func Exercise(t *testing.T, open Opener) {
	cases := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{"Users", testUsers},
		{"TenantUserCount", testTenantUserCount},
		{"APIKeys", testAPIKeys},
		{"FailedLoginCounting", testFailedLoginCounting},
		{"LoginActivityPruning", testLoginActivityPruning},
		{"MailClaims", testMailClaims},
		{"Templates", testTemplates},
		{"ActionTemplateID", testActionTemplateID},
		{"Organisations", testOrganisations},
		{"TykUsers", testTykUsers},
		{"DeleteOrganisationTakesItsJobs", testDeleteOrganisationTakesItsJobs},
		{"Stories", testStories},
		{"Actions", testActions},
		{"Events", testEvents},
		{"ConcurrentEmits", testConcurrentEmits},
		{"EmitAfterClose", testEmitAfterClose},
		{"JobCompletedWithEvents", testJobCompletedWithEvents},
		{"NewJobsHandedToTaker", testNewJobsHandedToTaker},
		{"ActionSnapshots", testActionSnapshots},
		{"JobLifecycle", testJobLifecycle},
		{"JobLeases", testJobLeases},
		{"JobAdmin", testJobAdmin},
		{"JobPurge", testJobPurge},
		{"DeleteActionJobsChecksOwnership", testDeleteActionJobsChecksOwnership},
		{"ActionJobStats", testActionJobStats},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
}

// withDB runs fn on a fresh database from open, in parallel with the
// suite's other cases.
func withDB(t *testing.T, open Opener, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	fn(t, open(t))
}
