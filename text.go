package steward

import (
	"unicode/utf8"
)

// Truncate caps s at maxBytes bytes and returns valid UTF-8 whatever came
// in: every run of invalid bytes becomes one U+FFFD, and a character is
// never split (a rune that would not fit is dropped whole). PostgreSQL
// refuses invalid UTF-8, so every piece of text Steward caps before storing
// or logging it (error messages, response bodies, user agents) goes
// through this one function. maxBytes of zero or less gives "".
func Truncate(s string, maxBytes int) string {
	if len(s) <= maxBytes && utf8.ValidString(s) {
		return s
	}
	if maxBytes <= 0 {
		return ""
	}
	const replacement = "\uFFFD"
	out := make([]byte, 0, min(len(s), maxBytes))
	invalid := false // the previous byte was part of an invalid run
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			i++
			if invalid {
				continue
			}
			invalid = true
			if len(out)+len(replacement) > maxBytes {
				break
			}
			out = append(out, replacement...)
			continue
		}
		invalid = false
		if len(out)+size > maxBytes {
			break
		}
		out = append(out, s[i:i+size]...)
		i += size
	}
	return string(out)
}
