-- The template an action was created from, if any. Deleting the template
-- leaves the action as it is, no longer linked.
ALTER TABLE actions ADD COLUMN template_id BIGINT REFERENCES templates(id) ON DELETE SET NULL;
