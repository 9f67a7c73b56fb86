package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// auditList reads GET /api/v1/audit_logs with key and query.
func auditList(t *testing.T, e *env, key, query string) []map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v1/audit_logs"+query, key, nil)
	want(t, r, http.StatusOK)
	var out []map[string]any
	for _, v := range r.JSON(t)["audit_logs"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestAuditLogAPI(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		reader := &steward.User{TenantID: e.Admin.TenantID, Email: "auditor@acme.example", IsActive: true,
			TenantPermissions: []string{steward.PermissionAuditLogRead}}
		member := &steward.User{TenantID: e.Admin.TenantID, Email: "member@acme.example", IsActive: true}
		for _, u := range []*steward.User{reader, member} {
			if err := e.DB.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		readerKey, memberKey := newKeyFor(t, e, reader.TenantID, reader.ID), newKeyFor(t, e, member.TenantID, member.ID)

		// A change, a change refused by validation, and a refusal.
		want(t, e.do("POST", "/api/v1/stories", e.AdminKey, map[string]any{"name": "Audited"}), http.StatusCreated)
		want(t, e.do("POST", "/api/v1/stories", e.AdminKey, map[string]any{"name": ""}), http.StatusUnprocessableEntity)
		want(t, e.do("POST", "/api/v1/admin/users", memberKey, map[string]any{"email": "x@acme.example", "password": "s3cret-pass-word"}), http.StatusForbidden)
		want(t, e.do("POST", "/api/v1/admin/users", e.AdminKey, map[string]any{"email": "y@acme.example", "password": "s3cret-pass-word"}), http.StatusCreated)

		logs := auditList(t, e, e.AdminKey, "?operation_name[]=StoryCreation")
		if len(logs) != 1 {
			t.Fatalf("%d StoryCreation records, want 1 (the invalid request changed nothing): %v", len(logs), logs)
		}
		s := logs[0]
		if s["user_id"] != float64(e.Admin.UserID) || s["user_email"] != e.Admin.Email || s["tenant_id"] != float64(e.Admin.TenantID) {
			t.Errorf("actor: %v", s)
		}
		if s["inputs"].(map[string]any)["name"] != "Audited" || s["outputs"].(map[string]any)["story_id"] == nil {
			t.Errorf("inputs/outputs: %v %v", s["inputs"], s["outputs"])
		}
		for _, k := range []string{"id", "created_at", "updated_at", "operation_name", "inputs", "outputs", "request_ip",
			"request_user_agent", "story_id", "tenant_id", "user_id", "user_email", "user_name"} {
			if _, ok := s[k]; !ok {
				t.Errorf("record lacks %s", k)
			}
		}

		refused := auditList(t, e, readerKey, "?operation_name[]=AuthorizationRefusal&user_id[]="+fmt.Sprint(member.ID))
		if len(refused) != 1 || refused[0]["inputs"].(map[string]any)["operation"] != "UserCreation" {
			t.Fatalf("refusal records: %v", refused)
		}
		created := auditList(t, e, e.AdminKey, "?operation_name[]=UserCreation")
		if len(created) != 1 {
			t.Fatalf("UserCreation records: %v", created)
		}
		for _, a := range append(created, refused...) {
			if pw := a["inputs"].(map[string]any)["password"]; pw != nil && pw != steward.Redacted {
				t.Errorf("password recorded: %v", a["inputs"])
			}
		}

		t.Run("permissions", func(t *testing.T) {
			want(t, e.do("GET", "/api/v1/audit_logs", memberKey, nil), http.StatusForbidden)
			want(t, e.do("GET", "/api/v1/audit_logs", "", nil), http.StatusUnauthorized)
		})
		t.Run("bad filters are 400", func(t *testing.T) {
			for _, q := range []string{"?before=yesterday", "?after=2026-13-01", "?user_id[]=x", "?per_page=0"} {
				want(t, e.do("GET", "/api/v1/audit_logs"+q, e.AdminKey, nil), http.StatusBadRequest)
			}
		})
		t.Run("time filters", func(t *testing.T) {
			if got := auditList(t, e, e.AdminKey, "?after=2999-01-01T00:00:00Z"); len(got) != 0 {
				t.Errorf("after the future: %d records", len(got))
			}
			if got := auditList(t, e, e.AdminKey, "?before=2999-01-01&after=2000-01-01"); len(got) < 3 {
				t.Errorf("within all time: %d records", len(got))
			}
		})
		t.Run("never across tenants", func(t *testing.T) {
			other, err := httpapi.Bootstrap(ctx, httpapi.StoreServices(e.DB), "Other", "owner@other.example", "", 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range auditList(t, e, other.APIKey, "?per_page=500") {
				if a["tenant_id"] != float64(other.TenantID) {
					t.Errorf("tenant %d sees %v", other.TenantID, a)
				}
			}
		})
	})
}

func TestAuditSignInAndInstanceAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		c := newTykClient(t, db, tykSecret)
		e := c.env
		pw := "correct horse battery"
		uid := e.createUser(`{"email":"sam@acme.example","password":"` + pw + `"}`)
		if r, _ := e.signIn("sam@acme.example", "wrong password!"); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.Status)
		}
		if _, cookie := e.signIn("sam@acme.example", pw); cookie == nil {
			t.Fatal("no session")
		}
		fails := auditList(t, e, e.AdminKey, "?operation_name[]=SignInFailure")
		if len(fails) != 1 || fails[0]["user_id"] != float64(uid) || fails[0]["outputs"].(map[string]any)["reason"] != steward.LoginWrongPassword {
			t.Fatalf("failed sign-in records: %v", fails)
		}
		if ok := auditList(t, e, e.AdminKey, "?operation_name[]=SignIn"); len(ok) != 1 || ok[0]["user_id"] != float64(uid) {
			t.Fatalf("sign-in records: %v", ok)
		}

		// The instance admin creates an organisation and a user in it: both
		// records belong to the new organisation, and the access key shown
		// once is in neither.
		r := c.call("POST", "/admin/organisations", adminAuth(), map[string]any{"owner_name": "Audited Org"})
		want(t, r, http.StatusOK)
		orgID := r.JSON(t)["Meta"].(string)
		r = c.call("POST", "/admin/users", adminAuth(), map[string]any{"org_id": orgID, "email_address": "o@org.example",
			"first_name": "O", "last_name": "P", "password": "another long password"})
		want(t, r, http.StatusOK)
		accessKey := r.JSON(t)["Message"].(string)
		var tenant int64
		fmt.Sscanf(orgID, "%x", &tenant)
		rows, err := db.Read.Query(db.Q(`SELECT operation_name, inputs, outputs, user_name FROM audit_logs WHERE tenant_id = ? ORDER BY id`), tenant)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ops []string
		for rows.Next() {
			var op, in, out, name string
			if err := rows.Scan(&op, &in, &out, &name); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
			if strings.Contains(in+out, accessKey) || strings.Contains(in+out, "another long password") || strings.Contains(in+out, tykSecret) {
				t.Errorf("secret in record %s: %s %s", op, in, out)
			}
			if !strings.Contains(name, "admin-auth") {
				t.Errorf("record %s names %q as the actor", op, name)
			}
		}
		if strings.Join(ops, ",") != "OrganisationCreation,UserCreation" {
			t.Errorf("organisation's records: %v", ops)
		}
	})
}

func TestEveryStateChangingRouteHasAnOperation(t *testing.T) {
	api := httpapi.NewServer(httpapi.Services{}, httpapi.DefaultConfig(), nil, nil)
	names := map[string]string{}
	for _, p := range api.Routes() {
		op, audited := httpapi.AuditOperation(p)
		method, _, _ := strings.Cut(p, " ")
		switch {
		case method == "GET" && audited:
			t.Errorf("%s is a read but audited", p)
		case method != "GET" && !strings.HasPrefix(p, method+" /webhook/") && (!audited || op == ""):
			t.Errorf("%s changes state but has no audit operation", p)
		}
		names[p] = op
	}
	if names["DELETE /api/v1/admin/actions/{id}/delete_all_dead_jobs"] != "ActionDeadJobsDeletion" {
		t.Errorf("per-action purge: %q", names["DELETE /api/v1/admin/actions/{id}/delete_all_dead_jobs"])
	}
	if got, _ := httpapi.AuditOperation("POST /api/v1/egress_rules"); got != "EgressRulesCreation" {
		t.Errorf("derived name: %q", got)
	}
}
