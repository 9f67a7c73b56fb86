package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/steward-dev/steward"
)

// Report carries what the API learns while serving one of the console's
// in-process requests and does not put in its JSON answer: how many jobs a
// bulk change touched, and an invitation's link. Only requests the console
// makes carry one, so API clients never see these values.
type Report struct {
	// Count is how many objects a bulk change touched.
	Count int64
	// InvitationURL is the link in the invitation just queued.
	InvitationURL string
}

type reportKey struct{}

// ReportFrom returns the report of a console request, or nil for any other
// request. The HTTP layer fills it in.
func ReportFrom(ctx context.Context) *Report {
	rep, _ := ctx.Value(reportKey{}).(*Report)
	return rep
}

// CallerFrom returns the signed-in user of the console page that made an
// in-process API request, or nil for any other request. The console has
// authenticated the page's session already, and its API requests carry the
// same session cookie, so the API can take the caller from here instead of
// looking the session up again for each of them. Requests from outside the
// process never carry it.
func CallerFrom(ctx context.Context) *steward.Principal {
	if ReportFrom(ctx) == nil {
		return nil
	}
	if s := sessionFrom(ctx); s != nil {
		return s.p
	}
	return nil
}

// apiResult is the API's answer to one in-process request.
type apiResult struct {
	status int
	header http.Header
	body   []byte
	report *Report
}

// memoryWriter is the http.ResponseWriter the API writes its answer to.
type memoryWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (m *memoryWriter) Header() http.Header { return m.header }
func (m *memoryWriter) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.body.Write(b)
}
func (m *memoryWriter) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}

// statusCode maps the API's statuses back to Steward's error codes.
var statusCode = map[int]string{
	http.StatusUnprocessableEntity:   steward.EINVALID,
	http.StatusBadRequest:            steward.EMALFORMED,
	http.StatusNotFound:              steward.ENOTFOUND,
	http.StatusConflict:              steward.ECONFLICT,
	http.StatusUnauthorized:          steward.EUNAUTHORIZED,
	http.StatusForbidden:             steward.EFORBIDDEN,
	http.StatusRequestEntityTooLarge: steward.ETOOLARGE,
	http.StatusTooManyRequests:       steward.ETOOMANYREQUESTS,
}

// call sends the API an in-process request with the caller's session
// cookie (and nothing else of theirs) and decodes a JSON answer into out.
// A problem answer becomes a *steward.Error with the API's code, message
// and field.
func (c *Console) call(r *http.Request, method, path string, body any, out any) (*apiResult, error) {
	var rd io.Reader = http.NoBody
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode API request: %w", err)
		}
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	rep := &Report{}
	ctx := context.WithValue(r.Context(), reportKey{}, rep)
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, fmt.Errorf("build API request: %w", err)
	}
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", r.UserAgent())
	if id := r.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ck, err := r.Cookie(c.deps.SessionCookie); err == nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	mw := &memoryWriter{header: http.Header{}}
	c.deps.API.ServeHTTP(mw, req)
	if mw.status == 0 {
		mw.status = http.StatusOK
	}
	res := &apiResult{status: mw.status, header: mw.header, body: mw.body.Bytes(), report: rep}
	if mw.status >= 400 {
		return res, problemError(mw.status, res.body)
	}
	if out != nil && len(res.body) > 0 {
		if err := json.Unmarshal(res.body, out); err != nil {
			return res, fmt.Errorf("decode API answer to %s %s: %w", method, path, err)
		}
	}
	return res, nil
}

// problemError turns a problem+json answer into a *steward.Error.
func problemError(status int, body []byte) error {
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &p)
	code, ok := statusCode[status]
	if !ok {
		return fmt.Errorf("API answered %d: %s", status, p.Detail)
	}
	e := &steward.Error{Code: code, Message: p.Detail}
	if len(p.Errors) > 0 {
		e.Field = p.Errors[0].Field
		if e.Message == "" {
			e.Message = p.Errors[0].Message
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// meta is the API's pagination block.
type meta struct {
	Pages int `json:"pages"`
	Count int `json:"count"`
}
