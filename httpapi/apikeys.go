package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// apiKeyView shows a key without its secret; Key is set only in the
// response that creates it.
type apiKeyView struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Prefix     string `json:"prefix"`
	Key        string `json:"key,omitempty"`
	CreatedAt  Time   `json:"created_at"`
	LastUsedAt *Time  `json:"last_used_at"`
	ExpiresAt  *Time  `json:"expires_at"`
	RevokedAt  *Time  `json:"revoked_at"`
	Active     bool   `json:"active"`
}

func newAPIKeyView(k *steward.APIKey, now time.Time) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: Time(k.CreatedAt),
		LastUsedAt: timePtr(k.LastUsedAt), ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt),
		Active: k.Usable(now)}
}

// NewAPIKey creates a key for a user and returns it with its plaintext,
// which is shown once and never stored.
func NewAPIKey(name string, tenantID, userID int64, expires *time.Time) (*steward.APIKey, string) {
	plaintext, hash := steward.NewSecret(steward.APIKeyPrefix)
	return &steward.APIKey{TenantID: tenantID, UserID: userID, Name: name, Prefix: plaintext[:len(steward.APIKeyPrefix)+6],
		Hash: hash, ExpiresAt: expires}, plaintext
}

func (s *Server) handleAPIKeyList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	keys, err := s.APIKeys.FindAPIKeys(r.Context(), p.User.TenantID, p.User.ID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	views := make([]apiKeyView, len(keys))
	for i, k := range keys {
		views[i] = newAPIKeyView(k, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": views})
	return nil
}

func (s *Server) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	var req struct {
		Name      *string `json:"name"`
		ExpiresAt *string `json:"expires_at"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return steward.FieldErrorf("name", "name is required, for example \"CI deploy key\"")
	}
	name := strings.TrimSpace(*req.Name)
	if len(name) > 100 {
		return steward.FieldErrorf("name", "name must be at most 100 characters")
	}
	now := s.Clock.Now()
	var expires *time.Time
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			return steward.FieldErrorf("expires_at", "expires_at must be an RFC 3339 time like 2030-01-31T00:00:00Z, got %q", *req.ExpiresAt)
		}
		if !t.After(now) {
			return steward.FieldErrorf("expires_at", "expires_at must be in the future")
		}
		expires = &t
	}
	k, plaintext := NewAPIKey(name, p.User.TenantID, p.User.ID, expires)
	if err := s.APIKeys.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	v := newAPIKeyView(k, now)
	v.Key = plaintext
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) handleAPIKeyDelete(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.APIKeys.RevokeAPIKey(r.Context(), p.User.TenantID, p.User.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
