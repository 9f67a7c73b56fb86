package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"

	"github.com/steward-dev/steward"
)

// Text with a NUL character (U+0000) cannot be stored in PostgreSQL text
// columns; the query would fail with an internal error. Requests carrying
// one are refused up front, on both databases alike, with a message that
// says what to fix.

const nulMessage = "contains a NUL character (\\u0000 or %00), which text cannot hold; remove it"

// checkJSONNoNUL returns EINVALID if any string of a valid JSON document,
// key or value, contains a NUL character.
func checkJSONNoNUL(body []byte) error {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil // the only way to write NUL in valid JSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return jsonError(err)
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, 0) {
			return steward.Errorf(steward.EINVALID, "request body %s", nulMessage)
		}
	}
}

// checkValuesNoNUL returns an error naming the first form field or query
// parameter whose name or value contains a NUL character. code is
// EINVALID for form fields and EMALFORMED for query parameters.
func checkValuesNoNUL(v url.Values, code, what string) error {
	for k, vs := range v {
		if strings.ContainsRune(k, 0) {
			return steward.Errorf(code, "a %s name %s", what, nulMessage)
		}
		for _, s := range vs {
			if strings.ContainsRune(s, 0) {
				return &steward.Error{Code: code, Field: k, Message: what + " " + k + " " + nulMessage}
			}
		}
	}
	return nil
}
