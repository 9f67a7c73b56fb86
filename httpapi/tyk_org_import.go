package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/steward-dev/steward"
)

// Tyk's messages for an organisation import.
const (
	tykOrgImported   = "Org imported"
	tykOrgSaveFailed = "Failed to save new Org object to DB"
)

// derivedTykIDPrefix starts every Tyk id Steward derives from an integer id
// (tykID): int64 ids fill at most the last 16 of the 24 hex characters.
// Imported ids (Tyk ObjectIds, which begin with a creation time) never
// start with it, so an id Steward hands out never equals an imported one.
const derivedTykIDPrefix = "00000000"

// tykOrgIDOf is the Tyk id of the organisation of tenant id: the id it was
// imported with, or the one derived from its integer id.
func tykOrgIDOf(id int64, imported string) string {
	if imported != "" {
		return imported
	}
	return tykID(id)
}

// isHex24 reports whether s is 24 hexadecimal characters.
func isHex24(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// findTykOrg finds the organisation a Tyk client names by id: one Steward
// derived (tykID), or one imported under that id. Anything else is Tyk's
// 404 "Could not retrieve org detail".
func (s *Server) findTykOrg(ctx context.Context, id string) (*steward.Organisation, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	var o *steward.Organisation
	var err error
	switch {
	case !isHex24(id):
		return nil, tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
	case strings.HasPrefix(id, derivedTykIDPrefix):
		n, ok := parseTykID(id)
		if !ok {
			return nil, tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
		}
		if o, err = s.Organisations.FindOrganisationByID(ctx, n); err == nil && o.TykID != "" {
			// An imported organisation answers only to its own id.
			return nil, tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
		}
	default:
		o, err = s.Organisations.FindOrganisationByTykID(ctx, id)
	}
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
	}
	return o, err
}

// handleTykOrgImport creates an organisation under the 24-hex id its body
// carries, as Tyk's demo bootstrap does, so that the client's later calls
// can use that fixed id. The id is required; one that is not 24 hex
// characters, or that starts with eight zeros as the ids Steward derives
// do, is a 400; an id some organisation already has is Tyk's 403.
func (s *Server) handleTykOrgImport(w http.ResponseWriter, r *http.Request) error {
	var fields map[string]json.RawMessage
	if err := decodeTyk(r, &fields); err != nil {
		return err
	}
	o, err := tykOrgFromFields(fields)
	if err != nil {
		return err
	}
	var id string
	for k, v := range fields {
		if strings.ToLower(k) == "id" {
			if err := json.Unmarshal(v, &id); err != nil {
				return steward.FieldErrorf("id", "id must be a string of 24 hex characters, like \"5e9d9544a1dcd60001d0ed20\"")
			}
		}
	}
	id = strings.ToLower(strings.TrimSpace(id))
	switch {
	case id == "":
		return steward.FieldErrorf("id", "id is required: the organisation's 24 hex character id, like \"5e9d9544a1dcd60001d0ed20\"")
	case !isHex24(id):
		return steward.FieldErrorf("id", "id must be 24 hex characters, like \"5e9d9544a1dcd60001d0ed20\"")
	case strings.HasPrefix(id, derivedTykIDPrefix):
		// Steward's own id space: an existing organisation's id is taken;
		// any other is reserved for organisations Steward creates.
		if _, err := s.findTykOrg(r.Context(), id); err == nil {
			return tykErr(steward.EFORBIDDEN, tykOrgSaveFailed)
		} else if steward.ErrorCode(err) != steward.ENOTFOUND {
			return err
		}
		return steward.FieldErrorf("id", "ids starting with %s are the ones Steward assigns; import the organisation with its own id or create it with POST /admin/organisations", derivedTykIDPrefix)
	}
	o.TykID = id
	if err := s.Organisations.ImportOrganisation(r.Context(), o); steward.ErrorCode(err) == steward.ECONFLICT {
		return tykErr(steward.EFORBIDDEN, tykOrgSaveFailed)
	} else if err != nil {
		return err
	}
	writeTykOK(w, tykOrgImported, o.TykID)
	return nil
}
