package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/steward-dev/steward"
)

// MaxBodyBytes is the largest request body Steward reads (1 MiB).
const MaxBodyBytes = 1 << 20

// readBody reads the request body up to MaxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, steward.Errorf(steward.EMALFORMED, "could not read the request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, steward.Errorf(steward.ETOOLARGE, "request body is larger than %d bytes", MaxBodyBytes)
	}
	return body, nil
}

// decodeJSON reads a JSON object from the request into dst, a pointer to a
// struct. Field names match case-insensitively (Tines' Postman collection
// sends "Admin"); unknown fields are ignored. Errors say what to fix:
// EMALFORMED for unparseable JSON, EINVALID naming the field for a value
// of the wrong type, ETOOLARGE for bodies over MaxBodyBytes.
func decodeJSON(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshalObject(body, dst)
}

// unmarshalObject decodes one JSON object into dst; see decodeJSON.
func unmarshalObject(body []byte, dst any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return steward.Errorf(steward.EMALFORMED, "request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		return steward.Errorf(steward.EMALFORMED, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return steward.Errorf(steward.EMALFORMED, "request body has data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return steward.Errorf(steward.EMALFORMED, "request body has data after the JSON object")
	}
	return checkJSONNoNUL(trimmed)
}

// jsonError turns an encoding/json error into a client-facing *steward.Error.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return steward.Errorf(steward.EMALFORMED, "request body is not valid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return steward.Errorf(steward.EMALFORMED, "request body must be a JSON object")
		}
		return &steward.Error{Code: steward.EINVALID, Field: field,
			Message: fmt.Sprintf("%s must be %s, not a JSON %s", field, jsonTypeName(typ.Type), typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return steward.Errorf(steward.EMALFORMED, "request body is not valid JSON: it ends too early")
	}
	var ie *steward.Error
	if errors.As(err, &ie) {
		return ie
	}
	return steward.Errorf(steward.EMALFORMED, "request body is not valid JSON: %v", err)
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonTypeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.String()
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // URLs in pagination links keep their '&'
	_ = enc.Encode(v)
}
