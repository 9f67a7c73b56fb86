package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// isForm reports whether the request body is an HTML form rather than JSON.
func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// formValues parses a form body (URL-encoded or multipart) of at most
// MaxBodyBytes; query parameters are ignored so that secrets sent in the
// URL are not accepted by accident.
func formValues(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(MaxBodyBytes)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, steward.Errorf(steward.ETOOLARGE, "request body is larger than %d bytes", MaxBodyBytes)
	} else if err != nil {
		return nil, steward.Errorf(steward.EMALFORMED, "could not read the form: %v", err)
	}
	if err := checkValuesNoNUL(r.PostForm, steward.EINVALID, "form field"); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

// formInt parses an optional integer form field.
func formInt(v url.Values, field string) (*int64, error) {
	s := strings.TrimSpace(v.Get(field))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, steward.FieldErrorf(field, "%s must be an integer, got %q", field, s)
	}
	return &n, nil
}
