package httpapi

// AuditOperation exposes auditOperation to the external tests.
var AuditOperation = auditOperation
