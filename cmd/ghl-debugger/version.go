package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is the release version, set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/ghl-debugger
var version string

// runVersion is the version command: print the build version.
func runVersion(args []string, stdout io.Writer) error {
	fs := newFlagSet("version", "ghl-debugger version", stdout)
	if err := fs.parse(args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, buildVersion())
	return err
}

// buildVersion returns version when the build set it, otherwise the module version or VCS revision
// that the Go toolchain recorded, otherwise "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "dev"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified == "true" {
		revision += "-dirty"
	}
	return "dev-" + revision
}
