package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/steward-dev/steward"
)

// ImportOrganisation implements steward.OrganisationService: the tenant
// and its default story in one transaction, as CreateOrganisation writes
// them (insertOrganisation); the unique index tenants_tyk_id turns a taken Tyk id
// into ECONFLICT.
func (db *DB) ImportOrganisation(ctx context.Context, o *steward.Organisation) error {
	if o.TykID == "" {
		return steward.FieldErrorf("id", "id is required")
	}
	if err := db.insertOrganisation(ctx, o, o.TykID); err != nil {
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
