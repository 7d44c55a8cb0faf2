package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// envTestRedisURL names the variable that points tests at a real Redis, as in pkg/cache's tests,
// such as redis://127.0.0.1:6379/0.
const envTestRedisURL = "GHLD_TEST_REDIS_URL"

// The fault test's promises and pace.
const (
	// crossInstancePromise is how soon a write on one instance is seen on the others: the product's
	// one second. pkg/cache keeps it with pub/sub and GenerationTTL while Redis works, and with
	// DegradedTTL (one second, the default the test keeps) from the moment an outage is noticed.
	crossInstancePromise = time.Second
	// outageDetection is the longest an instance may take to notice an outage, by pkg/cache's
	// documentation: two seconds of silence on the invalidation channel for a Redis that hangs. A
	// refused connection, or five timed-out calls, is noticed sooner.
	outageDetection = 2 * time.Second
	// faultFillMargin allows for a fill on the other instance that read the database just before
	// a change and stores its value in L1 just after: L1 counts the degraded TTL from the store.
	faultFillMargin = 100 * time.Millisecond
	// faultBreakerOpenFor is short so that each fault's recovery takes a fraction of a second.
	faultBreakerOpenFor = 200 * time.Millisecond
	// faultReadEvery paces each reader: with ten readers, a stream of up to 2,500 requests a second
	// that leaves the machine's two cores (and so Redis's 50 ms) some room, as a spinning loop
	// would not.
	faultReadEvery = 4 * time.Millisecond
	// faultWriteEvery paces the writer, which cycles through four kinds of write.
	faultWriteEvery = 100 * time.Millisecond
	// faultSampleEvery is how often the instances' cache states are sampled, which dates the
	// delivery of invalidations that had to wait for Redis.
	faultSampleEvery = 5 * time.Millisecond
	// faultCalm is how long Redis works between faults: long enough that some writes, and the
	// second after each, meet no fault, which holds them to the one-second promise alone.
	faultCalm = 2 * time.Second
	// faultKeys is the number of API keys of each side that the writer may revoke, more than the
	// test revokes (one every 800 ms).
	faultKeys = 32
)

// faultTiers are the tiers the writer cycles an account through, by version.
var faultTiers = [...]gen.Tier{gen.TierFree, gen.TierPro, gen.TierEnterprise}

// faultRPMBase is the requests-per-minute override of version 0 of the account's limits; version v
// sets faultRPMBase+v, so that GET /v1/me tells which version it read.
const faultRPMBase = 1000

// countingRedisLog counts go-redis's own messages (failed dials while the proxy refuses) instead
// of printing hundreds of them.
type countingRedisLog struct{ n *atomic.Int64 }

// Printf counts one message.
func (l countingRedisLog) Printf(context.Context, string, ...any) { l.n.Add(1) }

// mustRealRedisURL returns the URL of the real Redis named by envTestRedisURL. Without it the test
// is skipped, except in CI, which must never skip Redis by accident.
func mustRealRedisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(envTestRedisURL)
	switch {
	case url != "":
		return url
	case os.Getenv("CI") != "":
		tb.Fatalf("%s is not set: CI must run the cache fault test on Redis", envTestRedisURL)
	}
	tb.Skipf("%s is not set: the cache fault test needs a real Redis", envTestRedisURL)
	return ""
}

// faultWrite is one write of the fault test: the version it makes current, the instance it was
// sent to, and when its request started and returned.
type faultWrite struct {
	version    int64
	inst       int
	start, end time.Time
}

// faultRead is one read: the instance it was sent to, when it ran and the version it saw.
type faultRead struct {
	inst       int
	start, end time.Time
	version    int64
}

// faultEntity is data that writes change and reads observe, as versions: 0 at the start, one more
// with each write. Only the writer goroutine writes an entity.
type faultEntity struct {
	name   string
	mu     sync.Mutex
	writes []faultWrite
	reads  []faultRead
}

// last returns the version of the entity's newest write, 0 before the first.
func (e *faultEntity) last() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.writes) == 0 {
		return 0
	}
	return e.writes[len(e.writes)-1].version
}

// addWrite records a write that returned as it must.
func (e *faultEntity) addWrite(w faultWrite) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writes = append(e.writes, w)
}

// addRead records a read that answered as it must, with the version it showed.
func (e *faultEntity) addRead(r faultRead) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads = append(e.reads, r)
}

// faultSample is one look at an instance's cache: taken between before and after, it saw
// invalidations waiting for Redis (pending) or not, and L2 up or not.
type faultSample struct {
	before, after time.Time
	pending, up   bool
}

// faultWindow is one fault: when it started, when the proxy resumed, when each instance noticed
// it (from the samples), and when both instances used Redis again with nothing waiting for it.
type faultWindow struct {
	name                string
	start, resumed, end time.Time
	noticed             [2]time.Time
}

// faultTimeline is what the promise of each write depends on: when the writer's invalidation
// reached Redis, and the faults around it.
type faultTimeline struct {
	samples [2][]faultSample
	faults  []faultWindow
}

// delivered returns when the invalidations of w had reached Redis: the first look at its instance,
// begun after w returned, that found nothing waiting. Far in the future if none did.
func (tl *faultTimeline) delivered(w faultWrite) time.Time {
	for _, s := range tl.samples[w.inst] {
		if !s.before.Before(w.end) && !s.pending {
			return s.after
		}
	}
	return w.end.Add(24 * time.Hour)
}

// notice dates, for each fault and instance, when the instance stopped counting on Redis: the
// first look begun after the fault started that found L2 no longer up (its L1 was flushed then).
func (tl *faultTimeline) notice() {
	for i := range tl.faults {
		f := &tl.faults[i]
		for inst, samples := range tl.samples {
			for _, s := range samples {
				if !s.before.Before(f.start) && !s.up {
					f.noticed[inst] = s.after
					break
				}
			}
		}
	}
}

// overlapsFault reports whether any fault window meets [from, to].
func (tl *faultTimeline) overlapsFault(from, to time.Time) bool {
	for _, f := range tl.faults {
		if !f.start.After(to) && !f.end.Before(from) {
			return true
		}
	}
	return false
}

// deadline returns the time from which every read on instance inst must show w, whatever the
// faults, by pkg/cache's documentation: at once on the instance that wrote it ("this instance's own
// Bumps and Deletes apply to it at once"); elsewhere within crossInstancePromise of the write
// reaching Redis (an instance's invalidations made while it could not reach Redis reach the others
// "when it reaches Redis again"), plus outageDetection when a fault overlapped the write or that
// second: a deletion announced just before a fault may be lost with the channel, and the other
// instance's L1 forgets it only once it notices the outage.
func (tl *faultTimeline) deadline(w faultWrite, inst int) time.Time {
	if inst == w.inst {
		return w.end
	}
	base := w.end
	if d := tl.delivered(w); d.After(base) {
		base = d
	}
	base = base.Add(crossInstancePromise)
	if tl.overlapsFault(w.start, base) {
		return base.Add(outageDetection)
	}
	return base
}

// mustShow says why read r had to show write w ("" when it did not have to): after w's deadline, or, during an outage
// of every instance, once DegradedTTL has passed since the write or since r's instance noticed
// the outage, if that is later ("a change made anywhere is seen everywhere within DegradedTTL of
// the change, or of the outage being noticed, if that is later"). That second promise holds
// until Redis answers again: from then on the instance may read Redis before the writer has sent
// its waiting invalidations, which the deadline allows for.
func (tl *faultTimeline) mustShow(w faultWrite, deadline time.Time, r faultRead) string {
	if !r.start.Before(deadline) {
		if r.inst == w.inst {
			return "the instance that wrote it must show it at once"
		}
		return fmt.Sprintf("its deadline was %s after it", deadline.Sub(w.end).Round(time.Millisecond))
	}
	for _, f := range tl.faults {
		noticed := f.noticed[r.inst]
		if noticed.IsZero() || r.start.Before(f.start) || !r.end.Before(f.resumed) {
			continue
		}
		since := w.end
		if noticed.After(since) {
			since = noticed
		}
		if due := since.Add(cache.DefaultDegradedTTL + faultFillMargin); !r.start.Before(due) {
			return fmt.Sprintf("during the outage %s (noticed by the reading instance %s after it began), it was due %s after the write",
				f.name, noticed.Sub(f.start).Round(time.Millisecond), due.Sub(w.end).Round(time.Millisecond))
		}
	}
	return ""
}

// check returns a description of every read of e that broke the promise: it showed a version that
// no write had begun to make when the read ended (data that was never written), or it missed a
// write that it had to show (mustShow).
func (tl *faultTimeline) check(e *faultEntity) []string {
	deadlines := make([][2]time.Time, len(e.writes))
	for i, w := range e.writes {
		for inst := range deadlines[i] {
			deadlines[i][inst] = tl.deadline(w, inst)
		}
	}
	var problems []string
	for _, r := range e.reads {
		var upper, floor int64
		var missed faultWrite
		var why string
		for i, w := range e.writes {
			if !w.start.After(r.end) {
				upper = max(upper, w.version)
			}
			if w.version > floor {
				if because := tl.mustShow(w, deadlines[i][r.inst], r); because != "" {
					floor, missed, why = w.version, w, because
				}
			}
		}
		switch {
		case r.version > upper:
			problems = append(problems, fmt.Sprintf("%s: instance %d read version %d, but only %d had been written",
				e.name, r.inst, r.version, upper))
		case r.version < floor:
			problems = append(problems, fmt.Sprintf("%s: instance %d read version %d %s after version %d was written on instance %d; %s",
				e.name, r.inst, r.version, r.start.Sub(missed.end).Round(time.Millisecond), floor, missed.inst, why))
		}
	}
	return problems
}

// lags returns how long after each write returned the other instance's reads first showed it,
// split by whether a fault overlapped the write and the following second.
func (tl *faultTimeline) lags(e *faultEntity) (normal, faulted []time.Duration) {
	for _, w := range e.writes {
		other := 1 - w.inst
		seen := time.Duration(-1)
		for _, r := range e.reads {
			if r.inst == other && r.version >= w.version && !r.end.Before(w.end) {
				if d := r.end.Sub(w.end); seen < 0 || d < seen {
					seen = d
				}
			}
		}
		if seen < 0 {
			continue
		}
		if tl.overlapsFault(w.start, w.end.Add(crossInstancePromise)) {
			faulted = append(faulted, seen)
		} else {
			normal = append(normal, seen)
		}
	}
	return normal, faulted
}

// faultPhase counts what happened during one phase of the fault test.
type faultPhase struct {
	name string
	// requests and unauthorized count each instance's reads, and the 401s among them (revoked
	// keys, as expected).
	requests, unauthorized [2]atomic.Int64
	// slowest is each instance's longest read, in nanoseconds.
	slowest [2]atomic.Int64
	writes  atomic.Int64
}

// faultInstance is one instance of the service: its handler and its cache, whose Redis is behind
// the test's proxy.
type faultInstance struct {
	env   *testEnv
	cache *cache.Cache
}

// faultRun is the fault test's fixture: two instances over one database and, through one proxy,
// one Redis, the data the stream reads and writes, and what the stream observed.
type faultRun struct {
	proxy *tcpproxy.Proxy
	inst  [2]faultInstance
	// admin is an admin account's key, for PATCH /internal/accounts and the cache stats.
	admin string
	// sides are the data that each instance writes; both instances read both sides.
	sides [2]*faultSide
	// analysisPath, analysisJSON and analysisETag are the analysis read all along (side 0's), as
	// first read.
	analysisPath, analysisJSON, analysisETag string

	phase    atomic.Pointer[faultPhase]
	phases   []*faultPhase
	timeline faultTimeline

	problemsMu sync.Mutex
	problems   []string
	failures   atomic.Int64

	stopStream, stopMonitor chan struct{}
	stream, monitor         sync.WaitGroup
	stopped                 bool
}

// faultSide is the data that one instance writes and that both read: an account, whose tier and
// limits that instance changes, with a location, into which it imports and which it analyses, and
// an account whose keys it revokes. Each instance writing its own side only, the other instance
// can see the side's changes only through what pkg/cache shares between instances, never through
// its own invalidations.
type faultSide struct {
	account  store.Account
	key      string
	location string
	// keysAccount owns the keys that the writer revokes; master is its key that stays.
	keysAccount store.Account
	master      string
	keySecrets  []string
	keyIDs      []string
	nextRevoke  int
	// list, history and tier are versioned by the writes: the workflow's name, the number of
	// analyses in the location's history, the account's limits.
	list, history, tier *faultEntity
	// keys has each key's revocation: version 1 once revoked.
	keys []*faultEntity
}

// mustFaultSide creates side n's data through env at version 0.
func mustFaultSide(t *testing.T, env *testEnv, admin string, n int) *faultSide {
	t.Helper()
	sd := &faultSide{
		list:    &faultEntity{name: fmt.Sprintf("side %d workflow list", n)},
		history: &faultEntity{name: fmt.Sprintf("side %d history", n)},
		tier:    &faultEntity{name: fmt.Sprintf("side %d tier", n)},
	}
	sd.account, sd.key = env.mustAccount(t, fmt.Sprintf("Acme %d", n), store.TierFree)
	// The env helpers that check responses against the spec (call) also require rate-limit
	// headers, which the unlimited limiter does not send; these requests are checked here instead.
	sd.location = mustJSON[gen.Location](t, env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: sd.key,
		body: fmt.Sprintf(`{"ghlLocationId":"stream-%d","name":"Stream","timezone":"UTC"}`, n)}), http.StatusCreated).Id
	mustJSON[gen.ImportResult](t, env.do(t, request{method: http.MethodPost, path: "/v1/locations/" + sd.location + "/workflows",
		key: sd.key, body: streamDoc(0)}), http.StatusCreated)
	mustJSON[gen.AnalysisRun](t, env.do(t, request{method: http.MethodPost, path: "/v1/locations/" + sd.location + "/analyses",
		key: sd.key, body: `{"scope":"location"}`}), http.StatusCreated)
	mustJSON[gen.AccountLimits](t, env.do(t, patchAccount(admin, sd.account.ID, tierPatch(0))), http.StatusOK)

	sd.keysAccount, sd.master = env.mustAccount(t, fmt.Sprintf("Keys %d", n), store.TierPro)
	for range faultKeys {
		k, err := apikey.New()
		require.NoError(t, err)
		stored, err := env.db.CreateAPIKey(context.Background(), sd.keysAccount.ID, "revocable", k.Hash, k.Display)
		require.NoError(t, err)
		sd.keySecrets = append(sd.keySecrets, k.Secret)
		sd.keyIDs = append(sd.keyIDs, stored.ID)
		sd.keys = append(sd.keys, &faultEntity{name: fmt.Sprintf("side %d key %s", n, stored.ID)})
	}
	return sd
}

// entities returns the side's versioned data.
func (sd *faultSide) entities() []*faultEntity {
	return append([]*faultEntity{sd.list, sd.history, sd.tier}, sd.keys...)
}

// mustFaultRun builds the fixture on engine with the Redis at redisURL, and reads the data once as
// it must stay (the analysis) or start (every versioned entity at version 0).
func mustFaultRun(t *testing.T, engine, redisURL string) *faultRun {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	p, err := tcpproxy.Listen("127.0.0.1:0", opts.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })

	// The keys go when the test ends, after the caches (registered later, so closed earlier),
	// which would otherwise write their epoch again.
	prefix := fmt.Sprintf("ghld-test:faults:%016x", rand.Uint64())
	t.Cleanup(func() { mustDeleteRedisKeys(t, redisURL, prefix) })

	db := storetest.New(t, engine)
	r := &faultRun{proxy: p, stopStream: make(chan struct{}), stopMonitor: make(chan struct{})}
	for i := range r.inst {
		r.inst[i] = mustFaultInstance(t, db, redisURL, p.Addr(), prefix)
	}
	one := r.inst[0].env
	r.admin = one.mustAdmin(t)
	for n := range r.sides {
		r.sides[n] = mustFaultSide(t, one, r.admin, n)
	}
	run := mustJSON[gen.AnalysisRun](t, one.do(t, request{method: http.MethodPost, path: "/v1/analyses", key: r.sides[0].key,
		body: `{"document":` + bundleDoc + `}`}), http.StatusCreated)
	r.analysisPath = "/v1/analyses/" + run.Id
	first := one.do(t, request{method: http.MethodGet, path: r.analysisPath, key: r.sides[0].key})
	require.Equal(t, http.StatusOK, first.Code)
	r.analysisJSON, r.analysisETag = first.Body.String(), first.Header().Get("ETag")
	require.NotEmpty(t, r.analysisETag)
	for _, in := range r.inst {
		mustCacheUp(t, in.cache)
	}
	// Registered last, so run first: the stream stops before the instances close under it.
	t.Cleanup(r.halt)
	return r
}

// mustFaultInstance builds an instance over db whose cache reaches Redis through the proxy at
// proxyAddr, configured like the service's client, with a short breaker pause.
func mustFaultInstance(tb testing.TB, db *store.DB, redisURL, proxyAddr, prefix string) faultInstance {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL)
	require.NoError(tb, err)
	opts.Addr = proxyAddr
	opts.ContextTimeoutEnabled = true
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	c, err := cache.New(cache.Config{Redis: client, Prefix: prefix, BreakerOpenFor: faultBreakerOpenFor, Logger: logger})
	require.NoError(tb, err)
	tb.Cleanup(c.Close)
	h, err := api.NewHandler(api.Config{
		Store: db, Logger: logger, Version: "v1.2.3-test", MaxBodyBytes: documentBodyBytes,
		// The stream makes thousands of requests a minute with one key.
		RateLimiter: unlimited{}, UpgradeURL: testUpgradeURL, Cache: c,
	})
	require.NoError(tb, err)
	return faultInstance{env: &testEnv{db: db, handler: h, logs: logs}, cache: c}
}

// mustDeleteRedisKeys deletes every key under prefix, with a client of its own (the test's go
// through the proxy, which is closed by then).
func mustDeleteRedisKeys(tb testing.TB, redisURL, prefix string) {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL)
	require.NoError(tb, err)
	client := redis.NewClient(opts)
	defer func() { _ = client.Close() }()
	ctx := context.Background()
	keys, err := client.Keys(ctx, prefix+"*").Result()
	require.NoError(tb, err)
	if len(keys) > 0 {
		require.NoError(tb, client.Del(ctx, keys...).Err())
	}
}

// mustCacheUp waits until c uses Redis with its breaker closed and nothing waiting for it.
func mustCacheUp(tb testing.TB, c *cache.Cache) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		st := c.Stats().L2
		return st.State == cache.L2Up && st.Breaker == cache.BreakerClosed && st.PendingInvalidations == 0
	}, 10*time.Second, faultSampleEvery, "the cache did not get back to Redis: %+v", c.Stats().L2)
}

// streamDoc is the location's one workflow at version v: its name says the version.
func streamDoc(v int64) string {
	return fmt.Sprintf(`{"workflows":[{"_id":"wf_stream","name":"v%d","status":"draft","triggers":[],"steps":[{"type":"add_tag","name":"Tag","meta":{"tags":["t"]}}]}]}`, v)
}

// tierPatch is the PATCH body of version v of the account's limits.
func tierPatch(v int64) string {
	return fmt.Sprintf(`{"tier":%q,"requestsPerMinute":%d}`, faultTiers[v%int64(len(faultTiers))], faultRPMBase+v)
}

// problem records a request that did not answer as it must.
func (r *faultRun) problem(format string, args ...any) {
	r.failures.Add(1)
	r.problemsMu.Lock()
	defer r.problemsMu.Unlock()
	if len(r.problems) < 10 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

// enter starts a phase: the requests from now on count for it.
func (r *faultRun) enter(name string) {
	ph := &faultPhase{name: name}
	r.phases = append(r.phases, ph)
	r.phase.Store(ph)
}

// start starts the monitor, the readers (five kinds of read on each instance) and the writer.
func (r *faultRun) start(t *testing.T) {
	r.monitor.Go(r.sample)
	for inst := range r.inst {
		for kind := range 5 {
			r.stream.Go(func() { r.read(t, inst, kind) })
		}
	}
	r.stream.Go(func() { r.write(t) })
}

// halt stops the stream and the monitor at once, when the test ends early; after stop it does
// nothing.
func (r *faultRun) halt() {
	if r.stopped {
		return
	}
	r.stopped = true
	close(r.stopStream)
	r.stream.Wait()
	close(r.stopMonitor)
	r.monitor.Wait()
}

// stop stops the stream, waits until both instances have sent Redis every invalidation and the
// monitor has seen it (which dates the delivery of the last writes), then stops the monitor.
func (r *faultRun) stop(t *testing.T) {
	t.Helper()
	r.stopped = true
	close(r.stopStream)
	r.stream.Wait()
	for _, in := range r.inst {
		mustCacheUp(t, in.cache)
	}
	// Samples begun from now on find nothing pending; the monitor takes one every 5 ms.
	time.Sleep(20 * faultSampleEvery)
	close(r.stopMonitor)
	r.monitor.Wait()
}

// sample looks at both caches every faultSampleEvery until the monitor stops.
func (r *faultRun) sample() {
	tick := time.NewTicker(faultSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.stopMonitor:
			return
		case <-tick.C:
		}
		for i, in := range r.inst {
			before := time.Now()
			st := in.cache.Stats().L2
			r.timeline.samples[i] = append(r.timeline.samples[i], faultSample{
				before: before, after: time.Now(), pending: st.PendingInvalidations > 0, up: st.State == cache.L2Up,
			})
		}
	}
}

// read sends one kind of read to instance inst every faultReadEvery until the stream stops.
func (r *faultRun) read(tb testing.TB, inst, kind int) {
	rnd := rand.New(rand.NewPCG(uint64(inst), uint64(kind)))
	tick := time.NewTicker(faultReadEvery)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-r.stopStream:
			return
		case <-tick.C:
		}
		ph := r.phase.Load()
		start := time.Now()
		e, version, unauthorized, problem := r.readOnce(tb, inst, kind, rnd, n)
		end := time.Now()
		ph.requests[inst].Add(1)
		if unauthorized {
			ph.unauthorized[inst].Add(1)
		}
		for d := int64(end.Sub(start)); ; {
			s := ph.slowest[inst].Load()
			if d <= s || ph.slowest[inst].CompareAndSwap(s, d) {
				break
			}
		}
		if problem != "" {
			r.problem("%s, instance %d: %s", ph.name, inst, problem)
			continue
		}
		if e != nil {
			e.addRead(faultRead{inst: inst, start: start, end: end, version: version})
		}
	}
}

// readOnce sends the read of the given kind and checks its answer. It returns the entity read (nil
// for the analysis, which never changes), the version the answer shows, whether it was a 401, and
// what was wrong with it, if anything.
func (r *faultRun) readOnce(tb testing.TB, inst, kind int, rnd *rand.Rand, n int) (*faultEntity, int64, bool, string) {
	env := r.inst[inst].env
	// Each reader alternates sides, so that every kind of read sees both instances' writes.
	sd := r.sides[n%2]
	switch kind {
	case 0:
		req := request{method: http.MethodGet, path: r.analysisPath, key: r.sides[0].key}
		if n%4 < 2 {
			req.headers = map[string]string{"Accept-Encoding": "gzip"}
		}
		rec := env.do(tb, req)
		if rec.Code != http.StatusOK {
			return nil, 0, false, fmt.Sprintf("analysis: %d %s", rec.Code, rec.Body.String())
		}
		body := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			var err error
			if body, err = gunzip(body); err != nil {
				return nil, 0, false, "analysis: " + err.Error()
			}
		}
		if string(body) != r.analysisJSON || rec.Header().Get("ETag") != r.analysisETag {
			return nil, 0, false, fmt.Sprintf("analysis: another body (ETag %s): %.200s", rec.Header().Get("ETag"), body)
		}
		return nil, 0, false, ""
	case 1:
		rec := env.do(tb, request{method: http.MethodGet, path: "/v1/locations/" + sd.location + "/workflows?limit=100", key: sd.key})
		var page gen.WorkflowList
		if problem := decodeOK(rec.Code, rec.Body.Bytes(), &page); problem != "" {
			return nil, 0, false, "workflow list: " + problem
		}
		if len(page.Items) != 1 || page.Items[0].GhlWorkflowId != "wf_stream" {
			return nil, 0, false, fmt.Sprintf("workflow list: %d items, want wf_stream alone: %.200s", len(page.Items), rec.Body.String())
		}
		v, err := strconv.ParseInt(strings.TrimPrefix(page.Items[0].Name, "v"), 10, 64)
		if err != nil {
			return nil, 0, false, "workflow list: name " + page.Items[0].Name
		}
		return sd.list, v, false, ""
	case 2:
		rec := env.do(tb, request{method: http.MethodGet, path: "/v1/locations/" + sd.location + "/analyses?limit=100", key: sd.key})
		var page gen.AnalysisList
		if problem := decodeOK(rec.Code, rec.Body.Bytes(), &page); problem != "" {
			return nil, 0, false, "history: " + problem
		}
		if len(page.Items) == 0 {
			return nil, 0, false, "history: empty"
		}
		return sd.history, int64(len(page.Items) - 1), false, ""
	case 3:
		rec := env.do(tb, request{method: http.MethodGet, path: "/v1/me", key: sd.key})
		var me gen.Me
		if problem := decodeOK(rec.Code, rec.Body.Bytes(), &me); problem != "" {
			return nil, 0, false, "me: " + problem
		}
		v := int64(me.Limits.RequestsPerMinute) - faultRPMBase
		if me.Account.Id != sd.account.ID || v < 0 || me.Account.Tier != faultTiers[v%int64(len(faultTiers))] {
			return nil, 0, false, fmt.Sprintf("me: account %s, tier %s with %d requests per minute", me.Account.Id, me.Account.Tier, me.Limits.RequestsPerMinute)
		}
		return sd.tier, v, false, ""
	default:
		i := rnd.IntN(len(sd.keySecrets))
		rec := env.do(tb, request{method: http.MethodGet, path: "/v1/me", key: sd.keySecrets[i]})
		if rec.Code == http.StatusUnauthorized {
			return sd.keys[i], 1, true, ""
		}
		var me gen.Me
		if problem := decodeOK(rec.Code, rec.Body.Bytes(), &me); problem != "" {
			return nil, 0, false, "revocable key: " + problem
		}
		if me.Account.Id != sd.keysAccount.ID {
			return nil, 0, false, "revocable key: account " + me.Account.Id
		}
		return sd.keys[i], 0, false, ""
	}
}

// decodeOK decodes a 200 answer's JSON body into v, or says why it cannot.
func decodeOK(code int, body []byte, v any) string {
	if code != http.StatusOK {
		return fmt.Sprintf("%d %.200s", code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Sprintf("%v: %.200s", err, body)
	}
	return ""
}

// gunzip undoes one layer of gzip, for the readers, which must not stop the test from their
// goroutines as mustGunzip would.
func gunzip(data []byte) ([]byte, error) {
	var out bytes.Buffer
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if _, err := out.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return out.Bytes(), nil
}

// write sends a write every faultWriteEvery until the stream stops, alternating instances, each
// writing its own side: an import (a new version of the workflow list), an analysis of the
// location (a new history entry), a key's revocation and a change of the account's tier and
// limits, in turn.
func (r *faultRun) write(tb testing.TB) {
	tick := time.NewTicker(faultWriteEvery)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-r.stopStream:
			return
		case <-tick.C:
		}
		inst := i % 2
		env, sd := r.inst[inst].env, r.sides[inst]
		var e *faultEntity
		var req request
		var want int
		switch i / 2 % 4 {
		case 0:
			e, want = sd.list, http.StatusCreated
			req = request{method: http.MethodPost, path: "/v1/locations/" + sd.location + "/workflows", key: sd.key, body: streamDoc(e.last() + 1)}
		case 1:
			e, want = sd.history, http.StatusCreated
			req = request{method: http.MethodPost, path: "/v1/locations/" + sd.location + "/analyses", key: sd.key, body: `{"scope":"location"}`}
		case 2:
			if sd.nextRevoke == len(sd.keys) {
				continue
			}
			e, want = sd.keys[sd.nextRevoke], http.StatusOK
			req = request{method: http.MethodDelete, path: "/v1/api-keys/" + sd.keyIDs[sd.nextRevoke], key: sd.master}
			sd.nextRevoke++
		default:
			e, want = sd.tier, http.StatusOK
			req = patchAccount(r.admin, sd.account.ID, tierPatch(sd.tier.last()+1))
		}
		ph := r.phase.Load()
		start := time.Now()
		rec := env.do(tb, req)
		end := time.Now()
		if rec.Code != want {
			r.problem("%s, instance %d: %s %s answered %d, want %d: %.200s", ph.name, inst, req.method, req.path, rec.Code, want, rec.Body.String())
			continue
		}
		e.addWrite(faultWrite{version: e.last() + 1, inst: inst, start: start, end: end})
		ph.writes.Add(1)
	}
}

// report logs the phase's counts and each instance's cache statistics.
func (r *faultRun) report(t *testing.T, ph *faultPhase, note string) {
	t.Helper()
	for i, in := range r.inst {
		st := in.cache.Stats()
		t.Logf("%-22s inst %d: %5d reads (%3d x 401), slowest %4s, %2d writes (both) | L1 %6d hits %5d misses, %d flushes | L2 %5d hits %5d misses %5d skipped, %4d failures | breaker %-9s opened %d times, state %-8s pending %d",
			ph.name, i, ph.requests[i].Load(), ph.unauthorized[i].Load(), time.Duration(ph.slowest[i].Load()).Round(time.Millisecond), ph.writes.Load(),
			st.L1.Counts.Hits, st.L1.Counts.Misses, st.L1.Flushes,
			st.L2.Counts.Hits, st.L2.Counts.Misses, st.L2.Skipped, st.L2.Failures,
			st.L2.Breaker, st.L2.BreakerOpens, st.L2.State, st.L2.PendingInvalidations)
	}
	if note != "" {
		t.Logf("%-22s %s", ph.name, note)
	}
}

// calm runs the stream with Redis working for d.
func (r *faultRun) calm(t *testing.T, name string, d time.Duration) {
	t.Helper()
	r.enter(name)
	time.Sleep(d)
	r.report(t, r.phase.Load(), "")
}

// fault breaks the path to Redis with begin for d while the stream runs, requires every instance's
// breaker to have opened meanwhile, then resumes it and waits until both instances use Redis
// again: the fault's window ends then.
func (r *faultRun) fault(t *testing.T, name string, begin func(), d time.Duration) {
	t.Helper()
	var opens [2]uint64
	for i, in := range r.inst {
		opens[i] = in.cache.Stats().L2.BreakerOpens
	}
	r.enter(name)
	w := faultWindow{name: name, start: time.Now()}
	begin()
	time.Sleep(d)
	r.report(t, r.phase.Load(), "")
	for i, in := range r.inst {
		require.Greater(t, in.cache.Stats().L2.BreakerOpens, opens[i], "the breaker of instance %d opened during %s", i, name)
	}
	r.enter("resuming")
	w.resumed = time.Now()
	require.NoError(t, r.proxy.Resume())
	for _, in := range r.inst {
		mustCacheUp(t, in.cache)
	}
	w.end = time.Now()
	r.timeline.faults = append(r.timeline.faults, w)
	r.report(t, r.phase.Load(), fmt.Sprintf("both instances used Redis again %s after the proxy resumed",
		w.end.Sub(w.resumed).Round(time.Millisecond)))
}

// TestCacheFaults runs a stream of requests through two instances of the service that share a
// database and, through a TCP proxy, a real Redis, while the proxy slows Redis down past the
// cache's timeout, freezes it and cuts it. Every request must answer as it must with the right
// data: the analysis always the same body; the workflow list, the history, the account's tier and
// each key's revocation never older than pkg/cache promises after a write on either instance. The
// breaker of both instances must open during each fault and close again by itself.
func TestCacheFaults(t *testing.T) {
	redisURL := mustRealRedisURL(t)
	// go-redis's logger is the process's; it stays quiet for the tests that run after this one,
	// none of which reads it.
	var redisMessages atomic.Int64
	redis.SetLogger(countingRedisLog{n: &redisMessages})
	forEachEngine(t, func(t *testing.T, engine string) {
		r := mustFaultRun(t, engine, redisURL)
		r.enter("normal")
		r.start(t)
		time.Sleep(faultCalm)
		r.report(t, r.phase.Load(), "")
		faults := []struct {
			name  string
			begin func()
			d     time.Duration
		}{
			// Each way, so a call takes 200 ms or more: four times the cache's 50 ms.
			{name: "slow (100 ms a chunk)", begin: func() { r.proxy.Slow(100 * time.Millisecond) }, d: 1500 * time.Millisecond},
			// Longer than the two seconds of silence after which a subscription is given up.
			{name: "frozen", begin: r.proxy.Freeze, d: 2500 * time.Millisecond},
			{name: "cut", begin: r.proxy.Cut, d: 1500 * time.Millisecond},
		}
		for _, f := range faults {
			r.fault(t, f.name, f.begin, f.d)
			r.calm(t, "resumed", faultCalm)
		}
		r.stop(t)
		r.verify(t)
		t.Logf("go-redis reported %d errors of its own so far (failed dials)", redisMessages.Load())
	})
}

// verify checks what the stream observed against the promises, then reads every entity once more
// on both instances after the last deadline, and the cache stats through the API.
func (r *faultRun) verify(t *testing.T) {
	t.Helper()
	r.problemsMu.Lock()
	problems := slices.Clone(r.problems)
	r.problemsMu.Unlock()
	require.Zero(t, r.failures.Load(), "requests that did not answer as they must; the first: %v", problems)

	r.timeline.notice()
	for _, f := range r.timeline.faults {
		for inst, noticed := range f.noticed {
			require.False(t, noticed.IsZero(), "instance %d never noticed the fault %s", inst, f.name)
			require.LessOrEqual(t, noticed.Sub(f.start), outageDetection, "instance %d noticed the fault %s late", inst, f.name)
		}
		t.Logf("%-22s noticed after %s and %s; both back on Redis %s after the proxy resumed", f.name,
			f.noticed[0].Sub(f.start).Round(time.Millisecond), f.noticed[1].Sub(f.start).Round(time.Millisecond),
			f.end.Sub(f.resumed).Round(time.Millisecond))
	}

	entities := append(r.sides[0].entities(), r.sides[1].entities()...)
	var last time.Time
	for _, e := range entities {
		for _, w := range e.writes {
			for inst := range r.inst {
				if d := r.timeline.deadline(w, inst); d.After(last) {
					last = d
				}
			}
		}
	}
	require.WithinDuration(t, time.Now(), last, time.Minute, "every write reached Redis, so every deadline is near")
	time.Sleep(time.Until(last))
	for inst, in := range r.inst {
		env := in.env
		start := time.Now()
		for n, sd := range r.sides {
			page := mustJSON[gen.WorkflowList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + sd.location + "/workflows?limit=100", key: sd.key}), http.StatusOK)
			require.Len(t, page.Items, 1)
			require.Equal(t, fmt.Sprintf("v%d", sd.list.last()), page.Items[0].Name, "side %d on instance %d, after every deadline", n, inst)
			history := mustJSON[gen.AnalysisList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + sd.location + "/analyses?limit=100", key: sd.key}), http.StatusOK)
			require.Len(t, history.Items, int(sd.history.last())+1, "side %d on instance %d, after every deadline", n, inst)
			me := mustJSON[gen.Me](t, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: sd.key}), http.StatusOK)
			require.Equal(t, int32(faultRPMBase+sd.tier.last()), me.Limits.RequestsPerMinute, "side %d on instance %d, after every deadline", n, inst)
			for i, secret := range sd.keySecrets {
				want := http.StatusOK
				if sd.keys[i].last() > 0 {
					want = http.StatusUnauthorized
				}
				require.Equal(t, want, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: secret}).Code, "side %d key %d on instance %d", n, i, inst)
			}
		}
		rec := env.do(t, request{method: http.MethodGet, path: r.analysisPath, key: r.sides[0].key})
		require.Equal(t, r.analysisJSON, rec.Body.String())

		st := mustJSON[gen.CacheStats](t, env.do(t, request{method: http.MethodGet, path: "/internal/cache-stats", key: r.admin}), http.StatusOK)
		require.True(t, st.L2.Configured)
		require.Equal(t, gen.CacheL2StatsBreakerClosed, st.L2.Breaker, "instance %d: the breaker closed again by itself", inst)
		require.Equal(t, gen.CacheL2StatsStateUp, st.L2.State, "instance %d", inst)
		cs := in.cache.Stats()
		require.Positive(t, cs.L1.Counts.Hits, "instance %d answered from L1", inst)
		require.Positive(t, cs.L2.Counts.Hits, "instance %d answered from Redis", inst)
		t.Logf("final reads on instance %d after every deadline (%s): all current; cache-stats: l2 %s, breaker %s",
			inst, time.Since(start).Round(time.Millisecond), st.L2.State, st.L2.Breaker)
	}

	var reads, writes, revoked int
	for _, e := range entities {
		problems := r.timeline.check(e)
		require.Zero(t, len(problems), "stale or impossible reads of %s; the first: %s", e.name, strings.Join(problems[:min(len(problems), 3)], "; "))
		reads += len(e.reads)
		writes += len(e.writes)
	}
	for _, sd := range r.sides {
		for _, k := range sd.keys {
			revoked += len(k.writes)
		}
	}
	require.Positive(t, revoked)
	for _, e := range []*faultEntity{r.sides[0].list, r.sides[1].list, r.sides[0].history, r.sides[1].history, r.sides[0].tier, r.sides[1].tier} {
		normal, faulted := r.timeline.lags(e)
		t.Logf("%-20s %2d writes; the other instance saw them after at most %s (%d writes away from faults), %s (%d writes during or next to one)",
			e.name, len(e.writes), maxDuration(normal).Round(time.Millisecond), len(normal), maxDuration(faulted).Round(time.Millisecond), len(faulted))
	}
	var total, unauthorized int64
	for _, ph := range r.phases {
		for i := range r.inst {
			total += ph.requests[i].Load()
			unauthorized += ph.unauthorized[i].Load()
		}
	}
	var opens [2]uint64
	for i, in := range r.inst {
		opens[i] = in.cache.Stats().L2.BreakerOpens
	}
	t.Logf("%d reads (%d refused keys that had been revoked, as expected) and %d writes (%d revocations), none failed, none stale; %d reads checked against the writes' deadlines; breakers opened %d and %d times",
		total, unauthorized, writes, revoked, reads, opens[0], opens[1])
}

// maxDuration returns the longest of ds, 0 for none.
func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
