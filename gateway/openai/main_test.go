package openai

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/internal/tracing"
)

// leakOpts ignores three goroutines of fasthttp itself: the process-wide date ticker
// and the default dialer's address-cache cleaner (started once, never stopped), and a
// stopped server's worker-pool cleaner, which notices the stop only after its idle
// sleep (MaxIdleWorkerDuration, 10 s).
var leakOpts = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean"),
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leakOpts...) }

// fakeCore is the minimal gateway.Core of these tests: Query is a stand-in pipeline
// that issues a real receipt.
type fakeCore struct {
	rcpt    *receipt.Service
	queries atomic.Int64
	last    atomic.Pointer[query.Request]
	fail    atomic.Pointer[error]
	// usage, when set, is the upstream usage the stand-in pipeline reports
	// (Detail.Usage), and cached marks its results as cache hits.
	usage  atomic.Pointer[inference.Usage]
	cached atomic.Bool
	// trace is the traceparent the last query's context carried ("" none).
	trace atomic.Pointer[string]
	// pieces, when set, are handed to req.OnDelta one every pieceDelay (as a
	// streaming backend would) before the result; failAfter then fails the query
	// after them.
	pieces     atomic.Pointer[[]string]
	pieceDelay time.Duration
	failAfter  atomic.Pointer[error]
}

func (c *fakeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	c.queries.Add(1)
	c.last.Store(&req)
	tp, _ := tracing.FromContext(ctx)
	tps := tp.String()
	c.trace.Store(&tps)
	if p := c.fail.Load(); p != nil {
		return query.Result{}, *p
	}
	if err := query.Validate(&req); err != nil {
		return query.Result{}, err
	}
	var streamed string
	if p := c.pieces.Load(); p != nil && req.OnDelta != nil {
		for _, s := range *p {
			time.Sleep(c.pieceDelay)
			req.OnDelta(s)
			streamed += s
		}
		if e := c.failAfter.Load(); e != nil {
			return query.Result{}, *e
		}
	}
	snr, ihsan := 0.91, 0.97
	ev := []query.Evidence{{Source: "docs/sky.md", Excerpt: "Rayleigh scattering makes the sky blue.", Score: 0.9},
		{Source: "docs/light.md", Excerpt: "Blue light scatters more.", Score: 0.7}}
	answer := "Rayleigh scattering makes the sky blue [docs/sky.md]. Blue light scatters more than red light [docs/light.md]."
	if streamed != "" {
		answer = streamed
	}
	res := query.Result{QueryID: query.NewQueryID(time.Now()), Success: true, Response: answer,
		ReasoningUsed: true, ReasoningDepth: 2, SNRScore: &snr, IhsanScore: &ihsan, SNROK: true,
		Validated: true, ValidationPassed: true, ModelUsed: "embedded-extractive", Verdict: query.VerdictApproved,
		Evidence: ev, UserID: req.UserID, GraphHash: strings.Repeat("ab", 32),
		Detail: query.Detail{Citations: []query.Citation{{Marker: 1, Source: "docs/sky.md", Lines: [2]int{4, 4}, LineStart: 4,
			LineEnd: 4, Excerpt: "Rayleigh scattering makes the sky blue."}}}}
	ref, err := c.rcpt.Issue(receipt.Input{Kind: receipt.KindQuery, Status: receipt.StatusAccepted, Method: req.Method,
		Params: req, Payload: map[string]any{"response": answer}, SNR: &snr, Ihsan: &ihsan, GatePassed: true, Reason: receipt.ReasonOK})
	if err != nil {
		return query.Result{}, err
	}
	if u := c.usage.Load(); u != nil {
		res.Detail.Usage = *u
	}
	res.Cached = c.cached.Load()
	res.ReceiptID = ref.ReceiptID
	res.Detail.LeafHash, res.Detail.ReceiptStatus = ref.LeafHash, ref.Status
	return res, nil
}

func (c *fakeCore) Health() gateway.Health {
	return gateway.Health{Status: "healthy", Version: "test", Checks: map[string]any{}}
}
func (c *fakeCore) Status(context.Context) any { return map[string]any{} }
func (c *fakeCore) WriteMetrics(w io.Writer)   {}

type envOpts struct {
	apiKeys     []string
	rate        float64
	mock        mockllm.Options
	maxInFlight int
	timeout     time.Duration
	noReceipts  bool
	// failReceipts, when set and true, makes Issue fail like an unwritable receipt log.
	failReceipts *atomic.Bool
	// probeInterval is the backend health-probe period (0 → 200 ms, so circuit tests
	// recover quickly).
	probeInterval time.Duration
	// forward, when set, is Options.Forward (the pass-through endpoints' backend).
	forward Forwarder
	// extraBackends follow the mock's backend "llm" in the fallback order.
	extraBackends []inference.BackendConfig
	// tools marks backend "llm" tool-capable (BackendConfig.Tools).
	tools bool
}

type env struct {
	mock   *mockllm.Server
	inf    *inference.Service
	rcpt   *receipt.Service
	core   *fakeCore
	routes *Routes
	gw     *gateway.Server
	set    *metrics.Set
	base   string // http://host:port
}

func testSecret(t testing.TB) receipt.Secret {
	t.Helper()
	s, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{set: metrics.NewSet()}
	if o.mock.Models == nil {
		o.mock.Models = []string{"mock-small", "mock-large"}
	}
	e.mock = mockllm.New(o.mock)
	if _, err := e.mock.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.mock.Shutdown(context.Background()) })

	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)

	rc, err := receipt.New(receipt.Options{System: sys, Dir: t.TempDir(), Secret: testSecret(t), NodeID: "node-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Shutdown(context.Background()) })
	e.rcpt = rc

	if o.maxInFlight == 0 {
		o.maxInFlight = 64
	}
	inf, err := inference.New(inference.Options{System: sys, Metrics: e.set,
		Config: inference.Config{Backends: append([]inference.BackendConfig{{Name: "llm", Kind: inference.KindOpenAI, URL: e.mock.URL(), Tools: o.tools}},
			o.extraBackends...)},
		MaxInFlight: o.maxInFlight, ProbeInterval: cmp.Or(o.probeInterval, 200*time.Millisecond),
		Retry: inference.Retry{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond, Attempts: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = inf.Shutdown(c)
	})
	e.inf = inf

	e.core = &fakeCore{rcpt: rc}
	ropts := Options{Metrics: e.set, Inference: inf, Query: e.core.Query, Receipts: rc, Timeout: o.timeout, Forward: o.forward}
	if o.noReceipts {
		ropts.Receipts = nil
	}
	if o.failReceipts != nil {
		ropts.Receipts = failingReceipts{Receipts: rc, fail: o.failReceipts}
	}
	e.routes, err = New(ropts)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Addr: "127.0.0.1:0", Core: e.core, Metrics: e.set,
		Routes: gateway.Extra{OpenAI: e.routes}, APIKeys: o.apiKeys, RatePerSec: o.rate, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(c)
	})
	e.gw = gw
	e.base = "http://" + gw.Addr()
	return e
}

// failingReceipts answers receipt.ErrStorage while fail is true.
type failingReceipts struct {
	Receipts
	fail *atomic.Bool
}

func (f failingReceipts) Issue(in receipt.Input) (receipt.Ref, error) {
	if f.fail.Load() {
		return receipt.Ref{}, fmt.Errorf("%w: injected (secret path)", receipt.ErrStorage)
	}
	return f.Receipts.Issue(in)
}

// client returns an HTTP client whose idle connections are closed at cleanup.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (e *env) post(t testing.TB, c *http.Client, body, key string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// openAIError decodes an OpenAI error body, failing the test when it is not one.
func openAIError(t testing.TB, b []byte) apiErrorBody {
	t.Helper()
	var e struct {
		Error *apiErrorBody `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error == nil || e.Error.Message == "" || e.Error.Type == "" || e.Error.Code == nil {
		t.Fatalf("not an OpenAI error: %s (%v)", b, err)
	}
	return *e.Error
}

// sseEvents reads an event stream: the data payloads in order and the comment lines.
func sseEvents(t testing.TB, r io.Reader, onData func(string)) (data, comments []string) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			d := strings.TrimPrefix(line, "data: ")
			data = append(data, d)
			if onData != nil {
				onData(d)
			}
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return data, comments
}

// chunkText concatenates the delta contents of chunk payloads.
func chunkText(t testing.TB, data []string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range data {
		if d == "[DONE]" {
			continue
		}
		var c Chunk
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("chunk %s: %v", d, err)
		}
		if len(c.Choices) > 0 {
			b.WriteString(c.Choices[0].Delta.Content)
		}
	}
	return b.String()
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exposition(set *metrics.Set) string {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	return b.String()
}

// missingTool skips t because an external tool is missing, except under CI (the CI
// variable set), where .ci/run installs every tool and a skip would hide a broken
// install: there it fails.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
