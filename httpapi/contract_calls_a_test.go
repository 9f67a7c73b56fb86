package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// contractAdminSecret is the instance admin secret of the contract server,
// so that the Tyk-compatible /admin API answers.
const contractAdminSecret = "contract-admin-secret"

// eachContractEnv runs fn against a fresh API, with the instance admin API
// enabled, on every test database.
func eachContractEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		fn(t, newEnv(t, db, func(c *httpapi.Config) { c.AdminSecret = contractAdminSecret }))
	})
}

// seedSectionA creates what the template, sign-in, invitation and Tyk calls
// need but cannot get from an earlier response: invitation tokens (only ever
// emailed), Tyk ids (the API returns them inside envelopes), and a Tyk user
// with a known access key.
func seedSectionA(t *testing.T, e *env, s *contractState) {
	t.Helper()
	ctx := context.Background()
	tenant := e.Admin.TenantID
	s.ids["tyk_org"] = tykHexID(tenant)
	s.ids["tyk_owner"] = tykHexID(e.Admin.UserID)

	spare := &steward.Organisation{OwnerName: "Spare Org"}
	if err := e.DB.CreateOrganisation(ctx, spare); err != nil {
		t.Fatal(err)
	}
	s.ids["tyk_org_spare"] = tykHexID(spare.ID)

	for _, name := range []string{"tyk_member", "tyk_spare"} {
		u := &steward.TykUser{User: &steward.User{TenantID: tenant, Email: name + "@acme.example", IsActive: true,
			TenantPermissions: []string{}}}
		var key *steward.APIKey
		if name == "tyk_member" {
			var plaintext string
			key, plaintext = httpapi.NewAPIKey("Tyk access key", 0, 0, nil)
			s.ids["tyk_member_key"] = plaintext
		}
		if err := e.DB.CreateTykUser(ctx, u, key); err != nil {
			t.Fatal(err)
		}
		s.ids[name] = tykHexID(u.ID)
	}

	now := time.Now()
	for _, name := range []string{"invitation_token", "invitation_token_form"} {
		u := &steward.User{TenantID: tenant, Email: name + "@acme.example", IsActive: true, TenantPermissions: []string{}}
		if err := e.DB.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		token, hash := steward.NewSecret("inv_")
		if err := e.DB.SetInvitation(ctx, tenant, u.ID, &steward.Invitation{TokenHash: hash, SentAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		s.ids[name] = token
	}
}

// Authentication and header variants for section A's calls. A call's Auth
// runs after the JSON Content-Type is set, so a variant may replace it.
func authTykAdmin(_ *env, _ *contractState, h http.Header) { h.Set("admin-auth", contractAdminSecret) }

func authTykWrongSecret(_ *env, _ *contractState, h http.Header) { h.Set("admin-auth", "wrong") }

func authTykMember(_ *env, s *contractState, h http.Header) {
	h.Set("Authorization", s.ids["tyk_member_key"])
}

func authForm(_ *env, _ *contractState, h http.Header) {
	h.Set("Content-Type", "application/x-www-form-urlencoded")
}

func authCrossSite(_ *env, _ *contractState, h http.Header) { h.Set("Sec-Fetch-Site", "cross-site") }

// tykHexID writes a Steward id as the Tyk API does: 24 hexadecimal characters.
func tykHexID(id int64) string { return fmt.Sprintf("%024x", id) }

// unknownHexID names no user or organisation.
var unknownHexID = tykHexID(999999)
