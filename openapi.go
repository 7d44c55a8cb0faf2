// Package ghldebugger holds ghl-debugger's API contract, openapi.yaml, for the binary to serve
// byte for byte at /openapi.yaml. gen/ is generated from the same file, so the served YAML and the
// JSON at /openapi.json describe the routes the server registers.
package ghldebugger

import _ "embed"

// OpenAPIYAML is openapi.yaml exactly as committed. It is shared, not copied: callers must not
// modify it.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte
