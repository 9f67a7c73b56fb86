package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// TestCredentialCacheStaleness checks both bounds on a cached API key: a
// change made through this server applies at once, and a change made
// elsewhere (straight in the database, as another server would) applies
// once the cache entry's time is up.
func TestCredentialCacheStaleness(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ce := newClockEnv(t, db, nil)
		e, clock, cfg, res := ce.env, ce.Clock, httpapi.DefaultConfig(), ce.Admin

		created := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"member@acme.example","password":"long enough pw"}`)
		want(t, created, http.StatusCreated)
		memberID := int64(created.JSON(t)["id"].(float64))
		memberKey := newKeyFor(t, e, res.TenantID, memberID)
		want(t, e.do("GET", "/api/v1/api_keys", memberKey, nil), http.StatusOK) // now cached

		t.Run("a change through this server applies to the next request", func(t *testing.T) {
			want(t, e.do("PUT", fmt.Sprintf("/api/v1/admin/users/%d", memberID), e.AdminKey, `{"is_active":false}`), http.StatusOK)
			want(t, e.do("GET", "/api/v1/api_keys", memberKey, nil), http.StatusUnauthorized)
			want(t, e.do("PUT", fmt.Sprintf("/api/v1/admin/users/%d", memberID), e.AdminKey, `{"is_active":true}`), http.StatusOK)
			want(t, e.do("GET", "/api/v1/api_keys", memberKey, nil), http.StatusOK)
		})

		t.Run("a change made elsewhere applies within the cache time", func(t *testing.T) {
			if _, err := db.Exec(context.Background(), `UPDATE api_keys SET revoked_at = ? WHERE user_id = ?`,
				sqlstore.Micros(clock.Now()), memberID); err != nil {
				t.Fatal(err)
			}
			clock.Advance(cfg.CredentialCacheTTL + time.Millisecond)
			r := e.do("GET", "/api/v1/api_keys", memberKey, nil)
			want(t, r, http.StatusUnauthorized)
			if d := r.JSON(t)["detail"]; d != "the API key has been revoked" {
				t.Errorf("detail %v", d)
			}
		})
	})
}
