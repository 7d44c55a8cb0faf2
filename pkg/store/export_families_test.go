package store

// QueryFamilies lists the query family names, for the conformance suite.
func QueryFamilies() []string {
	out := make([]string, len(queryFamilies))
	for i, f := range queryFamilies {
		out[i] = string(f)
	}
	return out
}
