package steward

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short ASCII unchanged", "hello", 10, "hello"},
		{"exact fit unchanged", "hello", 5, "hello"},
		{"ASCII cut", "hello world", 5, "hello"},
		{"zero cap", "hello", 0, ""},
		{"negative cap", "hello", -1, ""},
		{"empty", "", 3, ""},
		{"two-byte rune not split", "aé", 2, "a"},
		{"two-byte rune fits", "aé", 3, "aé"},
		{"three-byte rune not split", "a€b", 3, "a"},
		{"four-byte rune not split", "😀😀", 7, "😀"},
		{"invalid byte replaced", "a\xffb", 10, "a\uFFFDb"},
		{"run of invalid bytes becomes one replacement", "a\xff\xfe\xfdb", 10, "a\uFFFDb"},
		{"replacement that does not fit is dropped", "ab\xff", 4, "ab"},
		{"truncated sequence at the end replaced", "ab\xe2\x82", 10, "ab\uFFFD"},
		{"cut inside multi-byte input that was already split", "\xe2\x82\xac\xe2\x82", 3, "€"},
		{"surrogate half is invalid", "x\xed\xa0\x80y", 10, "x\uFFFDy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"", "hello", "aé€😀", "a\xffb", "\xe2\x82", strings.Repeat("€", 10)} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 64
		got := Truncate(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q: not valid UTF-8", s, n, got)
		}
		if len(got) > max(n, 0) {
			t.Fatalf("Truncate(%q, %d) = %q: %d bytes", s, n, got, len(got))
		}
		if utf8.ValidString(s) {
			if !strings.HasPrefix(s, got) {
				t.Fatalf("Truncate(%q, %d) = %q: not a prefix of valid input", s, n, got)
			}
			if len(s) <= n && got != s {
				t.Fatalf("Truncate(%q, %d) = %q: valid input that fits must be unchanged", s, n, got)
			}
			if len(got) < len(s) {
				if _, size := utf8.DecodeRuneInString(s[len(got):]); len(got)+size <= n {
					t.Fatalf("Truncate(%q, %d) = %q: the next rune would have fitted", s, n, got)
				}
			}
		}
	})
}
