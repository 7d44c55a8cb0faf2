package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkConcurrentAnalysesMemory measures the peak resident memory of the real binary while 32
// clients at once post analyses of the auditor's 76-workflow sample, each document different so
// that none is reused, side by side: with the default computation slots (one per CPU) and with 32
// slots, which is how the service ran before the slots existed. It reports the peak RSS
// (VmHWM) of each process in MB, and how many answers were 503 overloaded.
//
//	go test ./cmd/ghl-debugger -run '^$' -bench ConcurrentAnalysesMemory -benchtime 5x
func BenchmarkConcurrentAnalysesMemory(b *testing.B) {
	sample, err := os.ReadFile("../../pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json")
	require.NoError(b, err)
	const clients = 32
	for _, bc := range []struct {
		name  string
		slots string
	}{{"slots=cpus", "0"}, {"slots=32", "32"}} {
		b.Run(bc.name, func(b *testing.B) {
			p := mustStart(b, map[string]string{
				"GHLD_DATA_DIR": b.TempDir(), "GHLD_MAX_CONCURRENT_ANALYSES": bc.slots,
				"GHLD_MAX_BODY_BYTES": strconv.Itoa(len(sample) * 2),
			})
			key := keyPattern.FindString(p.stdout.String())
			require.NotEmpty(b, key)
			c := client{base: p.baseURL, key: key}
			var overloaded atomic.Int64
			n := 0
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range clients {
					n++
					// A different workflow name in each document changes its content hash.
					doc := bytes.Replace(sample, []byte(`"No Show Recovery"`), fmt.Appendf(nil, `"No Show Recovery %d"`, n), 1)
					wg.Go(func() {
						resp, data := c.do(b, http.MethodPost, "/v1/analyses", `{"document":`+string(doc)+`}`)
						switch resp.StatusCode {
						case http.StatusCreated:
						case http.StatusServiceUnavailable:
							overloaded.Add(1)
						default:
							b.Errorf("analysis answered %d: %.300s", resp.StatusCode, data)
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(peakRSSMB(b, p.cmd.Process.Pid), "peak-RSS-MB")
			b.ReportMetric(float64(overloaded.Load()), "overloaded")
			p.mustStop(b)
		})
	}
}

// peakRSSMB reads a process's peak resident set size (VmHWM) from /proc, in MB.
func peakRSSMB(tb testing.TB, pid int) float64 {
	tb.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(tb, err)
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			require.NoError(tb, err)
			return kb / 1000
		}
	}
	tb.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
