-- Lists of a tenant's users read them in id order: this index serves the
-- filter and the order together, so a page is a short range read.
CREATE INDEX users_tenant_id ON users (tenant_id, id);
