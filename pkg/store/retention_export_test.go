package store

// The retention's statements, so that the tests can check their plans.
const (
	QueryRetentionKeys   = retentionKeys
	QueryRetentionDelete = retentionDelete
)
