package ghl

// SetAfterRefresh makes s run fn between GHL's answer to a refresh and the store of the new pair;
// an error from fn stands for the process dying there (nothing is stored, the lease is left).
func SetAfterRefresh(s *Service, fn func() error) { s.afterRefresh = fn }

// TokenAAD is the associated data of a location's stored token field ("access" or "refresh").
func TokenAAD(locationID, field string) string { return tokenAAD(locationID, field) }
