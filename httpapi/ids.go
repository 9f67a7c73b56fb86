package httpapi

import (
	"net/http"

	"github.com/steward-dev/steward"
)

// parseID parses a Steward id as it appears in a path or query: a
// canonical decimal integer from 1 to 2⁶³-1, with no sign, no leading
// zeros, no spaces and no other spelling. Anything else names nothing, so
// that "/users/01" and "/api_keys/+1" are not aliases of id 1.
func parseID(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	var id int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if id > (1<<63-1-d)/10 {
			return 0, false // beyond int64
		}
		id = id*10 + d
	}
	return id, true
}

// pathID parses the id path parameter name with parseID: ENOTFOUND for
// anything that is not a canonical id.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, ok := parseID(v)
	if !ok {
		return 0, steward.Errorf(steward.ENOTFOUND, "%s %q is not a valid id: ids are whole numbers such as 42, without sign or leading zeros", name, v)
	}
	return id, nil
}

// parseTykID parses a Tyk id made by tykID: exactly 24 lower-case
// hexadecimal characters naming an id from 1. Anything else names nothing.
func parseTykID(s string) (int64, bool) {
	if len(s) != 24 {
		return 0, false
	}
	var id uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		if id > (1<<63-1-d)/16 {
			return 0, false // beyond int64
		}
		id = id*16 + d
	}
	if id < 1 {
		return 0, false
	}
	return int64(id), true
}
