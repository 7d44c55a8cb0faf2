package store

// QueryFamilies is the table of query families, for the conformance suite.
var QueryFamilies = queryFamilies
