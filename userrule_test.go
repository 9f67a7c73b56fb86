package steward

import (
	"strings"
	"testing"
)

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name     string
		min      int
		password string
		wantErr  string
	}{
		{"default minimum met", 0, "12345678", ""},
		{"default minimum missed", 0, "1234567", "at least 8 characters"},
		{"characters, not bytes", 0, "éééééééé", ""},
		{"configured minimum missed", 12, "elevenchars", "at least 12 characters"},
		{"configured minimum met", 12, "twelve chars", ""},
		{"lower configured minimum", 6, "sixsix", ""},
		{"bcrypt byte limit", 0, strings.Repeat("é", 37), "at most 72 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := PasswordPolicy{MinLength: tt.min}.Check("password", tt.password)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(ErrorMessage(err), tt.wantErr) || ErrorField(err) != "password") {
				t.Fatalf("error %v, want %q on field password", err, tt.wantErr)
			}
		})
	}
}

func TestUserInputNormalize(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name      string
		in        UserInput
		wantField string
		wantEmail string
	}{
		{"email lower-cased and trimmed", UserInput{Email: str("  Ann@Example.COM ")}, "", "ann@example.com"},
		{"bad email names the field", UserInput{Email: str("ann")}, "email", ""},
		{"Tyk's field name", UserInput{Email: str("ann"), EmailField: "email_address"}, "email_address", ""},
		{"name of 255 characters", UserInput{FirstName: str(strings.Repeat("é", MaxNameLength))}, "", ""},
		{"name of 256 characters", UserInput{LastName: str(strings.Repeat("é", MaxNameLength+1))}, "last_name", ""},
		{"invalid UTF-8 name", UserInput{FirstName: str("a\xffb")}, "first_name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Normalize()
			if got := ErrorField(err); got != tt.wantField || (tt.wantField == "") != (err == nil) {
				t.Fatalf("error %v (field %q), want field %q", err, got, tt.wantField)
			}
			if tt.wantEmail != "" && *tt.in.Email != tt.wantEmail {
				t.Errorf("email %q, want %q", *tt.in.Email, tt.wantEmail)
			}
		})
	}
}
