package httpapi

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	good := []struct {
		name, in string
		want     time.Time
	}{
		{"python str(datetime)", "2000-01-01 00:00:00", utc(2000, 1, 1, 0, 0, 0, 0)},
		{"python str(datetime) with microseconds", "2000-01-01 00:00:00.123456", utc(2000, 1, 1, 0, 0, 0, 123456000)},
		{"python str(aware datetime)", "2000-01-01 00:00:00+00:00", utc(2000, 1, 1, 0, 0, 0, 0)},
		{"python isoformat", "2000-01-01T00:00:00", utc(2000, 1, 1, 0, 0, 0, 0)},
		{"python isoformat with zone", "2000-01-01T10:00:00.5+02:00", utc(2000, 1, 1, 8, 0, 0, 500000000)},
		{"RFC 3339 Z", "2019-07-08T14:16:11Z", utc(2019, 7, 8, 14, 16, 11, 0)},
		{"RFC 3339 milliseconds Z", "2019-07-08T14:16:11.967Z", utc(2019, 7, 8, 14, 16, 11, 967000000)},
		{"nanoseconds", "2019-07-08T14:16:11.123456789Z", utc(2019, 7, 8, 14, 16, 11, 123456789)},
		{"negative offset", "2019-07-08T14:16:11-05:30", utc(2019, 7, 8, 19, 46, 11, 0)},
		{"basic offset", "2019-07-08T14:16:11+0200", utc(2019, 7, 8, 12, 16, 11, 0)},
		{"hour offset", "2019-07-08T14:16:11+02", utc(2019, 7, 8, 12, 16, 11, 0)},
		{"space and Z", "2019-07-08 14:16:11Z", utc(2019, 7, 8, 14, 16, 11, 0)},
		{"lower-case t and z", "2019-07-08t14:16:11z", utc(2019, 7, 8, 14, 16, 11, 0)},
		{"comma fraction", "2019-07-08T14:16:11,25Z", utc(2019, 7, 8, 14, 16, 11, 250000000)},
		{"minutes only", "2019-07-08T14:16", utc(2019, 7, 8, 14, 16, 0, 0)},
		{"minutes and zone", "2019-07-08 14:16+01:00", utc(2019, 7, 8, 13, 16, 0, 0)},
		{"unescaped plus read as a space", "2019-07-08T14:16:11 02:00", utc(2019, 7, 8, 12, 16, 11, 0)},
		{"space, unescaped plus", "2019-07-08 14:16:11.5 0200", utc(2019, 7, 8, 12, 16, 11, 500000000)},
		{"date", "2019-07-08", utc(2019, 7, 8, 0, 0, 0, 0)},
		{"epoch seconds", "1562595371", utc(2019, 7, 8, 14, 16, 11, 0)},
		{"epoch zero", "0", utc(1970, 1, 1, 0, 0, 0, 0)},
		{"surrounding space", " 2019-07-08 ", utc(2019, 7, 8, 0, 0, 0, 0)},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseTimestamp(c.in)
			if err != nil {
				t.Fatalf("parseTimestamp(%q): %v", c.in, err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("parseTimestamp(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}

	bad := []string{
		"", " ", "yesterday", "2026-13-45", "2019-07-08T25:00:00Z", "2019-7-8", "08/07/2019",
		"1562595371.5", "-1", "+1562595371", "99999999999999999999", "253402300800",
		"2019-07-08T14:16:11+2", "2019-07-08T14:16:11 junk", "2019-07-08X14:16:11", "2019-07-08T14",
		"Mon, 08 Jul 2019 14:16:11 GMT",
	}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			if got, err := parseTimestamp(in); err == nil {
				t.Fatalf("parseTimestamp(%q) = %v, want an error", in, got)
			} else {
				for _, form := range []string{"ISO 8601", "2019-07-08 14:16:11", "2019-07-08", "epoch seconds"} {
					if !strings.Contains(err.Error(), form) {
						t.Errorf("error %q does not list %q", err, form)
					}
				}
			}
		})
	}
}
