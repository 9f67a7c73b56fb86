package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/steward-dev/steward"
)

// tykOrgDefaults are the organisation fields Tyk always returns; an
// organisation that never set one shows this value.
var tykOrgDefaults = map[string]json.RawMessage{
	"owner_slug":      json.RawMessage(`""`),
	"cname":           json.RawMessage(`""`),
	"cname_enabled":   json.RawMessage(`false`),
	"apis":            json.RawMessage(`[]`),
	"developer_quota": json.RawMessage(`0`),
	"developer_count": json.RawMessage(`0`),
	"event_options":   json.RawMessage(`{}`),
	"hybrid_enabled":  json.RawMessage(`false`),
	"sso_enabled":     json.RawMessage(`false`),
	"ui":              json.RawMessage(`{}`),
}

// tykOrgView renders an organisation as Tyk does: id and owner_name first,
// then every other field (stored or default) in name order.
type tykOrgView struct{ *steward.Organisation }

// MarshalJSON implements json.Marshaler.
func (v tykOrgView) MarshalJSON() ([]byte, error) {
	fields := make(map[string]json.RawMessage, len(v.Fields)+len(tykOrgDefaults))
	for k, d := range tykOrgDefaults {
		fields[k] = d
	}
	for k, f := range v.Fields {
		fields[k] = f
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	id, _ := json.Marshal(tykOrgIDOf(v.ID, v.TykID))
	name, err := json.Marshal(v.OwnerName)
	if err != nil {
		return nil, err
	}
	b.WriteString(`{"id":`)
	b.Write(id)
	b.WriteString(`,"owner_name":`)
	b.Write(name)
	for _, k := range keys {
		kj, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(kj)
		b.WriteByte(':')
		b.Write(fields[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeTykOrg reads an organisation body: owner_name (required, a
// string) and any other fields, kept as sent. A client-supplied id is
// ignored: Steward assigns ids.
func decodeTykOrg(r *http.Request) (*steward.Organisation, error) {
	var fields map[string]json.RawMessage
	if err := decodeTyk(r, &fields); err != nil {
		return nil, err
	}
	return tykOrgFromFields(fields)
}

// tykOrgFromFields checks and keeps an organisation body's fields (see
// decodeTykOrg); id is left out.
func tykOrgFromFields(fields map[string]json.RawMessage) (*steward.Organisation, error) {
	o := &steward.Organisation{Fields: map[string]json.RawMessage{}}
	for k, v := range fields {
		switch strings.ToLower(k) {
		case "id":
		case "owner_name":
			if err := json.Unmarshal(v, &o.OwnerName); err != nil {
				return nil, steward.FieldErrorf("owner_name", "owner_name must be a string")
			}
		default:
			o.Fields[k] = v
		}
	}
	o.OwnerName = strings.TrimSpace(o.OwnerName)
	if o.OwnerName == "" {
		return nil, steward.FieldErrorf("owner_name", "owner_name is required, for example {\"owner_name\":\"Acme\"}")
	}
	if len(o.OwnerName) > 255 {
		return nil, steward.FieldErrorf("owner_name", "owner_name must be at most 255 characters")
	}
	return o, nil
}

// tykOrgID finds the organisation named by the {id} of the path and
// returns its Steward id.
func (s *Server) tykOrgID(r *http.Request) (int64, error) {
	o, err := s.findTykOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, err
	}
	return o.ID, nil
}

func (s *Server) handleTykOrgList(w http.ResponseWriter, r *http.Request) error {
	page, err := parseTykPage(r)
	if err != nil {
		return err
	}
	orgs, total, err := s.Organisations.FindOrganisations(r.Context(), page)
	if err != nil {
		return err
	}
	views := make([]tykOrgView, len(orgs))
	for i, o := range orgs {
		views[i] = tykOrgView{o}
	}
	writeTyk(w, http.StatusOK, struct {
		Organisations []tykOrgView `json:"organisations"`
		Pages         int          `json:"pages"`
	}{views, tykPages(total)})
	return nil
}

func (s *Server) handleTykOrgCreate(w http.ResponseWriter, r *http.Request) error {
	o, err := decodeTykOrg(r)
	if err != nil {
		return err
	}
	if err := s.Organisations.CreateOrganisation(r.Context(), o); err != nil {
		return err
	}
	writeTykOK(w, "Org created", tykID(o.ID))
	return nil
}

func (s *Server) handleTykOrgGet(w http.ResponseWriter, r *http.Request) error {
	o, err := s.findTykOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeTyk(w, http.StatusOK, tykOrgView{o})
	return nil
}

func (s *Server) handleTykOrgUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.tykOrgID(r)
	if err != nil {
		return err
	}
	o, err := decodeTykOrg(r)
	if err != nil {
		return err
	}
	o.ID = id
	if err := s.Organisations.ReplaceOrganisation(r.Context(), o); steward.ErrorCode(err) == steward.ENOTFOUND {
		return tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
	} else if err != nil {
		return err
	}
	writeTykOK(w, "Org updated", nil)
	return nil
}

func (s *Server) handleTykOrgDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := s.tykOrgID(r)
	if err != nil {
		return err
	}
	if err := s.Organisations.DeleteOrganisation(r.Context(), id); steward.ErrorCode(err) == steward.ENOTFOUND {
		return tykErr(steward.ENOTFOUND, tykOrgNotRetrieve)
	} else if err != nil {
		return err
	}
	writeTykOK(w, "Org deleted", nil)
	return nil
}
