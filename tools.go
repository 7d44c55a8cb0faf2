//go:build tools

// Package ghldebugger pins the code generator the module uses. The go.mod tool directive records its
// version; this blank import keeps the pin visible to readers and to tools that predate tool
// directives. The generator runs from the go:generate line in gen/generate.go, so both
// `go generate ./...` and `task generate` regenerate gen/ from openapi.yaml.
package ghldebugger

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
