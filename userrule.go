package steward

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The rules for a user, in one place: every API that creates or changes a
// user (Tines' /api/v1/admin/users, Tyk's /admin/users and /api/users,
// invitations, bootstrap) and the store apply these, so a user that one API
// accepts is a user every other API accepts too.

// MinPasswordLength is the shortest password Steward accepts by default.
const MinPasswordLength = 8

// LowestPasswordMinLength is the lowest minimum password length a server
// may be configured with (STEWARD_PASSWORD_MIN_LENGTH): Tyk's own minimum.
const LowestPasswordMinLength = 6

// MaxPasswordLength is bcrypt's input limit in bytes; longer passwords
// would be silently truncated, so they are refused instead.
const MaxPasswordLength = 72

// MaxNameLength caps a user's first and last name (and Tyk's group_id), in
// characters.
const MaxNameLength = 255

// MaxEmailLength is the longest address SMTP carries (RFC 5321).
const MaxEmailLength = 254

// PasswordPolicy is the rule every new password must pass.
type PasswordPolicy struct {
	// MinLength is the fewest characters a password may have; zero or
	// less means MinPasswordLength.
	MinLength int
}

// Min returns the effective minimum length in characters.
func (p PasswordPolicy) Min() int {
	if p.MinLength <= 0 {
		return MinPasswordLength
	}
	return p.MinLength
}

// Check returns EINVALID naming field when plaintext is too short (in
// characters) or longer than bcrypt can hash (in bytes).
func (p PasswordPolicy) Check(field, plaintext string) error {
	if n := utf8.RuneCountInString(plaintext); n < p.Min() {
		return FieldErrorf(field, "%s must be at least %d characters", field, p.Min())
	}
	if len(plaintext) > MaxPasswordLength {
		return FieldErrorf(field, "%s must be at most %d bytes", field, MaxPasswordLength)
	}
	return nil
}

// NormalizeEmail trims and lower-cases an address and checks its form.
// It returns EINVALID naming the field "email" when the address is unusable.
func NormalizeEmail(s string) (string, error) {
	return NormalizeEmailField("email", s)
}

// NormalizeEmailField is NormalizeEmail for an API whose field has another
// name (Tyk's email_address).
func NormalizeEmailField(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", FieldErrorf(field, "%s is required", field)
	}
	if len(s) > MaxEmailLength {
		return "", FieldErrorf(field, "%s must be at most %d characters", field, MaxEmailLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", FieldErrorf(field, "%s %q is not a valid address like name@example.com", field, s)
	}
	return s, nil
}

// NormalizeName trims a name (first_name, last_name, group_id) and checks
// it is valid text of at most MaxNameLength characters.
func NormalizeName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", FieldErrorf(field, "%s is not valid UTF-8 text", field)
	}
	if utf8.RuneCountInString(s) > MaxNameLength {
		return "", FieldErrorf(field, "%s must be at most %d characters", field, MaxNameLength)
	}
	return s, nil
}

var permissionName = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// NormalizeTenantPermissions upper-cases and de-duplicates a user's tenant
// permissions (Tines' AUDIT_LOG_READ, …), keeping their order.
func NormalizeTenantPermissions(perms []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, p := range perms {
		p = strings.ToUpper(strings.TrimSpace(p))
		if !permissionName.MatchString(p) {
			return nil, FieldErrorf("tenant_permissions", "tenant_permissions entries must be names like AUDIT_LOG_READ, got %q", p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// EmailTaken is the ECONFLICT for an email already used in the tenant.
// Tyk's API shows it with Tyk's own message.
func EmailTaken(email string) error {
	return &Error{Code: ECONFLICT, Field: "email", Message: fmt.Sprintf("a user with email %s already exists", email)}
}

// UserInput holds the person-facing fields a create or update sets; nil
// means absent. Normalize applies the rules above to every field present.
type UserInput struct {
	Email     *string
	FirstName *string
	LastName  *string
	// EmailField names the email field in errors ("email" when empty).
	EmailField string
}

// Normalize checks and normalises the fields present, in place. It is
// cheap and runs before anything expensive (such as hashing a password).
func (in UserInput) Normalize() error {
	if in.Email != nil {
		field := in.EmailField
		if field == "" {
			field = "email"
		}
		e, err := NormalizeEmailField(field, *in.Email)
		if err != nil {
			return err
		}
		*in.Email = e
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", in.FirstName}, {"last_name", in.LastName}} {
		if f.v == nil {
			continue
		}
		v, err := NormalizeName(f.name, *f.v)
		if err != nil {
			return err
		}
		*f.v = v
	}
	return nil
}
