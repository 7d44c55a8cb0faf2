package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyzeCommand runs the analyze command in process on the auditor's broken account (76
// workflows), from reading the file to writing the report, in each format. It is the part of
// bench/cli.sh's whole-process time that is not start-up, and the place to take a CPU profile of it:
//
//	go test ./cmd/ghl-debugger -run '^$' -bench AnalyzeCommand -cpuprofile cpu.out
func BenchmarkAnalyzeCommand(b *testing.B) {
	broken := filepath.Join(samples, "broken-account.json")
	for _, format := range []string{"text", "markdown", "json"} {
		b.Run(format, func(b *testing.B) {
			args := []string{"analyze", "--format", format, "--fail-on", "none", broken}
			b.ReportAllocs()
			for b.Loop() {
				if err := run(context.Background(), args, noEnv, nil, io.Discard, io.Discard); err != nil && !errors.Is(err, flag.ErrHelp) {
					b.Fatal(err)
				}
			}
		})
	}
}
