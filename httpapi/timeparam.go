package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// timestampForms lists, for error messages, what parseTimestamp accepts.
const timestampForms = "an ISO 8601 timestamp with T or a space, with or without fractional seconds " +
	"and zone (no zone is UTC): 2019-07-08T14:16:11Z, 2019-07-08 14:16:11.967+02:00, 2019-07-08 14:16:11; " +
	"a date: 2019-07-08; or epoch seconds: 1562595371"

// timestampLayouts are the ISO 8601 layouts parseTimestamp tries, with the
// date and time already joined by T. time.Parse accepts fractional seconds
// (with a dot or a comma) after the seconds even when a layout omits them.
var timestampLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
}

// maxEpochSeconds is 9999-12-31T23:59:59Z, the last instant the ISO forms
// can write; larger epoch values are refused rather than overflowing.
const maxEpochSeconds = 253402300799

// errTimestamp is parseTimestamp's error; its text lists the accepted forms.
var errTimestamp = errors.New("must be " + timestampForms)

// parseTimestamp reads a timestamp as clients send it in query parameters:
// ISO 8601 with T or a space between date and time (Python's str(datetime)
// sends the space), with or without fractional seconds and a zone (Z,
// ±hh:mm, ±hhmm, ±hh; none means UTC), a bare date (midnight UTC), or
// integer epoch seconds. A zone's "+" that arrived unescaped in a query
// string, and so reads as a space, is taken as "+". The result is in UTC.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errTimestamp
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxEpochSeconds {
			return time.Time{}, errTimestamp
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	// "…T15:04:05 02:00": the "+" of the zone decoded as a space.
	if i := strings.LastIndexByte(s, ' '); i > 10 && isZoneDigits(s[i+1:]) {
		s = s[:i] + "+" + s[i+1:]
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errTimestamp
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isZoneDigits reports whether s is a zone offset without its sign: hh,
// hhmm or hh:mm.
func isZoneDigits(s string) bool {
	switch len(s) {
	case 2, 4:
		return isDigits(s)
	case 5:
		return isDigits(s[:2]) && s[2] == ':' && isDigits(s[3:])
	}
	return false
}

// queryTime parses the optional timestamp query parameter name with
// parseTimestamp. Absent or empty is nil; a bad value is EMALFORMED (400)
// naming the parameter and listing the accepted forms.
func queryTime(r *http.Request, name string) (*time.Time, error) {
	v := r.URL.Query().Get(name)
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	t, err := parseTimestamp(v)
	if err != nil {
		return nil, &steward.Error{Code: steward.EMALFORMED, Field: name,
			Message: name + " " + err.Error() + "; got " + strconv.Quote(steward.Truncate(v, 64))}
	}
	return &t, nil
}
