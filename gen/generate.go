// Package gen is generated from openapi.yaml by oapi-codegen (pinned by the tool directive in go.mod
// and tools.go): the API's types, the strict Echo v5 server interface with its router, and the
// embedded specification. Edit openapi.yaml, then run `task generate` (or `go generate ./...`);
// never edit gen.go by hand.
package gen

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
