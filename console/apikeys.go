package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// apiKey is one of the user's keys as the API lists it.
type apiKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Key        string     `json:"key"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Active     bool       `json:"active"`
}

// apiKeysPage is the API keys page's data; Created is set once, right
// after a key is made, and is the only time its secret is shown.
type apiKeysPage struct {
	Keys    []apiKey
	Created *apiKey
}

// handleAPIKeys lists the signed-in user's own keys.
func (c *Console) handleAPIKeys(w http.ResponseWriter, r *http.Request) error {
	return c.renderAPIKeys(w, r, http.StatusOK, &view{})
}

func (c *Console) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, v *view) error {
	var body struct {
		Keys []apiKey `json:"api_keys"`
	}
	if _, err := c.call(r, "GET", "/api/v1/api_keys", nil, &body); err != nil {
		return err
	}
	d, _ := v.Data.(apiKeysPage)
	d.Keys = body.Keys
	v.Title, v.Nav, v.Data = "API keys", "api_keys", d
	c.render(w, r, status, "apikeys", v)
	return nil
}

// handleAPIKeyCreate makes a key and shows its secret, once.
func (c *Console) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	req := map[string]any{"name": f.Get("name")}
	if exp := strings.TrimSpace(f.Get("expires_at")); exp != "" {
		// A date input sends 2030-01-31; the API takes RFC 3339.
		if t, err := time.Parse("2006-01-02", exp); err == nil {
			exp = t.Format(time.RFC3339)
		}
		req["expires_at"] = exp
	}
	var k apiKey
	if _, err := c.call(r, "POST", "/api/v1/api_keys", req, &k); err != nil {
		v := &view{Form: f}
		status, ok := formError(v, err, "name", "expires_at")
		if !ok {
			return err
		}
		return c.renderAPIKeys(w, r, status, v)
	}
	return c.renderAPIKeys(w, r, http.StatusCreated, &view{Data: apiKeysPage{Created: &k},
		Flash: fmt.Sprintf("Created the key “%s”. Copy it now: it is not shown again.", k.Name)})
}

// handleAPIKeyRevokeConfirm asks before revoking a key.
func (c *Console) handleAPIKeyRevokeConfirm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		Keys []apiKey `json:"api_keys"`
	}
	if _, err := c.call(r, "GET", "/api/v1/api_keys", nil, &body); err != nil {
		return err
	}
	for _, k := range body.Keys {
		if k.ID == id {
			c.render(w, r, http.StatusOK, "confirm", &view{Title: "Confirm", Nav: "api_keys", Data: confirmation{
				Question: fmt.Sprintf("Revoke the key “%s” (%s…)?", k.Name, k.Prefix),
				Detail:   "Programs using it stop working at once. This cannot be undone.",
				Action:   fmt.Sprintf("/console/api_keys/%d/revoke", id), Button: "Revoke key", Danger: true,
				Cancel: "/console/api_keys",
			}})
			return nil
		}
	}
	return steward.Errorf(steward.ENOTFOUND, "you have no API key %d", id)
}

// handleAPIKeyRevoke revokes one of the user's keys.
func (c *Console) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.call(r, "DELETE", fmt.Sprintf("/api/v1/api_keys/%d", id), nil, nil); err != nil {
		return err
	}
	redirectWith(w, r, "/console/api_keys", "Revoked the key.")
	return nil
}
