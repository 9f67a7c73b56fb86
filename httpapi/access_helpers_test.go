package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// eachEnvWith runs fn against a fresh API, configured by configure, on
// every test database.
func eachEnvWith(t *testing.T, configure func(*httpapi.Config), fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		fn(t, newEnv(t, db, configure))
	})
}

// revokedKey creates an API key for the admin and revokes it.
func (e *env) revokedKey() string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/api_keys", e.AdminKey, map[string]any{"name": "soon revoked"})
	want(e.t, r, http.StatusCreated)
	k := r.JSON(e.t)
	want(e.t, e.do("DELETE", "/api/v1/api_keys/"+strconv.Itoa(int(k["id"].(float64))), e.AdminKey, nil), http.StatusNoContent)
	return k["key"].(string)
}

// sendFrom sends a request from the loopback address src (127.0.0.1,
// 127.0.0.2, …: every 127/8 address is local on Linux), so the server sees
// that address as the connection's peer. body may be a string (sent as is)
// or any value (sent as JSON).
func (e *env) sendFrom(src, method, path string, headers map[string]string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	tr := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// bearer is the header map of a request with an API key.
func bearer(key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key}
}

// wantDetail fails the test unless the response is a problem whose detail
// contains part.
func wantDetail(t *testing.T, r response, part string) {
	t.Helper()
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || !strings.Contains(p.Detail, part) {
		t.Errorf("detail should contain %q; body: %s", part, r.Body)
	}
}
