package metrics

import (
	"runtime/metrics"
	"time"
)

// The process's own health, enough to see a leak or a stuck pool of goroutines beside the
// service's metrics. They are read from runtime/metrics at each scrape, which does not stop the
// world as runtime.ReadMemStats does.
var (
	processStart = float64(time.Now().UnixNano()) / 1e9

	_ = NewGauge("process_start_time_seconds", "When the process started, in seconds since the Unix epoch.",
		func() float64 { return processStart })
	_ = NewGauge("go_goroutines", "Goroutines that exist now.",
		runtimeGauge("/sched/goroutines:goroutines"))
	_ = NewGauge("go_gomaxprocs", "The GOMAXPROCS setting: how many OS threads run Go code at once.",
		runtimeGauge("/sched/gomaxprocs:threads"))
	_ = NewGauge("go_memstats_heap_alloc_bytes", "Bytes of heap memory occupied by live and not yet swept objects.",
		runtimeGauge("/memory/classes/heap/objects:bytes"))
	_ = NewGauge("go_memstats_sys_bytes", "Bytes of memory the Go runtime obtained from the operating system.",
		runtimeGauge("/memory/classes/total:bytes"))
)

// runtimeGauge returns a function that reads one runtime/metrics value, which must be a uint64.
func runtimeGauge(name string) func() float64 {
	return func() float64 {
		sample := []metrics.Sample{{Name: name}}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return float64(sample[0].Value.Uint64())
	}
}
