package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// Pagination defaults, as in Tines' API.
const (
	defaultPerPage = 20
	maxPerPage     = 500
)

// parsePage reads page and per_page. Non-numbers and values below 1 are
// refused; per_page above 500 is capped, as Tines documents.
func parsePage(r *http.Request) (steward.PageRequest, error) {
	p := steward.PageRequest{Page: 1, PerPage: defaultPerPage}
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
	}{{"page", &p.Page}, {"per_page", &p.PerPage}} {
		v := strings.TrimSpace(q.Get(f.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, &steward.Error{Code: steward.EMALFORMED, Field: f.name,
				Message: f.name + " must be a whole number of at least 1, got " + strconv.Quote(v)}
		}
		*f.dst = n
	}
	if p.PerPage > maxPerPage {
		p.PerPage = maxPerPage
	}
	if p.Page > 1_000_000_000/p.PerPage {
		return p, &steward.Error{Code: steward.EMALFORMED, Field: "page", Message: "page is too large"}
	}
	return p, nil
}

// Meta is Tines' pagination block: absolute URLs for the current, previous
// and next pages, and the counts.
type Meta struct {
	CurrentPage    string  `json:"current_page"`
	PreviousPage   *string `json:"previous_page"`
	NextPage       *string `json:"next_page"`
	NextPageNumber *int    `json:"next_page_number"`
	PerPage        int     `json:"per_page"`
	Pages          int     `json:"pages"`
	Count          int     `json:"count"`
}

// pageMeta builds Meta for a page of a list of total items, keeping the
// request's other query parameters in the links.
func (s *Server) pageMeta(r *http.Request, p steward.PageRequest, total int) Meta {
	pages := (total + p.PerPage - 1) / p.PerPage
	link := func(page int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(p.PerPage))
		return s.absoluteURL(r, r.URL.Path) + "?" + encodePageQuery(q)
	}
	m := Meta{CurrentPage: link(p.Page), PerPage: p.PerPage, Pages: pages, Count: total}
	if p.Page > 1 {
		prev := link(min(p.Page-1, max(pages, 1)))
		m.PreviousPage = &prev
	}
	if p.Page < pages {
		next, n := link(p.Page+1), p.Page+1
		m.NextPage, m.NextPageNumber = &next, &n
	}
	return m
}

// encodePageQuery encodes q with page and per_page first, as Tines does.
func encodePageQuery(q url.Values) string {
	head := url.Values{"page": q["page"], "per_page": q["per_page"]}
	q.Del("page")
	q.Del("per_page")
	if rest := q.Encode(); rest != "" {
		return head.Encode() + "&" + rest
	}
	return head.Encode()
}

// absoluteURL joins the configured base URL (or, without one, the request's
// scheme and host) with path.
func (s *Server) absoluteURL(r *http.Request, path string) string {
	if s.Config.BaseURL != "" {
		return strings.TrimRight(s.Config.BaseURL, "/") + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}
