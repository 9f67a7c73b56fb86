package httpapi_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi/apidoc"
)

func TestDocsPageNeedsNoOtherSite(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		page := e.do("GET", "/api/docs", "", nil)
		want(t, page, http.StatusOK)
		csp := page.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
			}
		}
		// Every script and document the page loads is served here.
		refs := regexp.MustCompile(`(?:src|spec-url)="([^"]+)"`).FindAllStringSubmatch(string(page.Body), -1)
		if len(refs) != 2 {
			t.Fatalf("page loads %d resources, want the script and the document: %s", len(refs), page.Body)
		}
		for _, ref := range refs {
			if !strings.HasPrefix(ref[1], "/api/") {
				t.Errorf("page loads %q from elsewhere", ref[1])
			}
			want(t, e.do("GET", ref[1], "", nil), http.StatusOK)
		}

		script := e.do("GET", "/api/docs/redoc.standalone.js", "", nil)
		if !bytes.Equal(script.Body, apidoc.RedocScript) || !strings.HasPrefix(script.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("script: %d bytes of %s, want the %d-byte bundle", len(script.Body), script.Header.Get("Content-Type"), len(apidoc.RedocScript))
		}
		doc := e.do("GET", "/api/openapi.json", "", nil)
		if !bytes.Equal(doc.Body, apidoc.OpenAPI) {
			t.Error("/api/openapi.json is not the embedded document")
		}

		// The ETag lets a browser revalidate the large script cheaply.
		req, _ := http.NewRequest("GET", e.Server.URL+"/api/docs/redoc.standalone.js", nil)
		req.Header.Set("If-None-Match", script.Header.Get("ETag"))
		resp, err := e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation: status %d, want 304", resp.StatusCode)
		}
	})
}
