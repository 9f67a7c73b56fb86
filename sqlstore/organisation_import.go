package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

// ImportOrganisation implements steward.OrganisationService: the tenant
// and its default story, as every create writes them (insertTenant), in
// one transaction; the unique index tenants_tyk_id turns a taken Tyk id
// into ECONFLICT.
func (db *DB) ImportOrganisation(ctx context.Context, o *steward.Organisation) error {
	o.OwnerName = strings.TrimSpace(o.OwnerName)
	if o.OwnerName == "" {
		return steward.FieldErrorf("owner_name", "owner_name is required")
	}
	if o.TykID == "" {
		return steward.FieldErrorf("id", "id is required")
	}
	fields, err := fieldsJSON(o.Fields)
	if err != nil {
		return err
	}
	now := db.Clock.Now()
	o.CreatedAt, o.UpdatedAt = now, now
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		o.ID, _, err = db.insertTenant(ctx, tx, newTenant{name: o.OwnerName, fields: fields, tykID: o.TykID}, Micros(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("import organisation %s: %w", o.TykID, db.Dialect.TranslateError(err))
	}
	return nil
}

// FindOrganisationByTykID implements steward.OrganisationService.
func (db *DB) FindOrganisationByTykID(ctx context.Context, tykID string) (*steward.Organisation, error) {
	o, err := scanOrganisation(db.queryRow(ctx,
		`SELECT `+organisationColumns+` FROM tenants WHERE tyk_id = ? AND instance = FALSE`, tykID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("organisation")
	} else if err != nil {
		return nil, fmt.Errorf("find organisation %s: %w", tykID, err)
	}
	return o, nil
}
