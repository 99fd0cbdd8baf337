package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Options configures a Tracer. Zero values are documented per field.
type Options struct {
	// Endpoint is the OTLP/HTTP traces URL (http:// or https://); a URL without a path
	// gets /v1/traces. "" turns tracing off: New returns a nil *Tracer.
	Endpoint string
	// ServiceName is the resource's service.name; "" means "bizra".
	ServiceName string
	// ServiceVersion is the resource's service.version; "" leaves it out.
	ServiceVersion string
	// Logger receives export failures (at most one line per LogEvery); nil discards.
	Logger *slog.Logger
	// BatchTimeout is how long spans wait in the batch before an export; 0 means 2 s.
	BatchTimeout time.Duration
	// ExportTimeout bounds one export request; 0 means 10 s.
	ExportTimeout time.Duration
	// MaxQueue bounds the spans waiting for export (more are dropped); 0 means 4,096.
	MaxQueue int
	// LogEvery is the least time between two logged export failures; 0 means 1 min.
	LogEvery time.Duration
}

// Tracer records spans and exports them over OTLP/HTTP. A nil *Tracer is off: every
// method is a no-op.
type Tracer struct {
	tp  *sdktrace.TracerProvider
	tr  trace.Tracer
	exp *countingExporter

	once sync.Once
	err  error
}

// New builds a Tracer from o, or returns nil (tracing off) when o.Endpoint is "".
// Nothing is sent until a span ends and its batch is due.
func New(o Options) (*Tracer, error) {
	if o.Endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrEndpoint, o.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	if o.ServiceName == "" {
		o.ServiceName = "bizra"
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = 2 * time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 10 * time.Second
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 4096
	}
	if o.LogEvery <= 0 {
		o.LogEvery = time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// WithEndpointURL overrides the OTEL_EXPORTER_OTLP_*ENDPOINT variables; the
	// exporter's retry is off (a failed batch is logged and dropped: tracing must not
	// hold memory while a collector is down).
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(u.String()),
		otlptracehttp.WithTimeout(o.ExportTimeout),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", o.ServiceName)}
	if o.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", o.ServiceVersion))
	}
	ce := &countingExporter{SpanExporter: exp, log: log.With("component", "tracing"), every: o.LogEvery}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithBatcher(ce, sdktrace.WithBatchTimeout(o.BatchTimeout),
			sdktrace.WithMaxQueueSize(o.MaxQueue), sdktrace.WithExportTimeout(o.ExportTimeout)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	)
	return &Tracer{tp: tp, tr: tp.Tracer("github.com/bizra/bizra"), exp: ce}, nil
}

// Enabled reports whether t records spans.
func (t *Tracer) Enabled() bool { return t != nil }

// Start is a no-op (the SDK's batcher runs from New); it makes a Tracer a launcher
// component.
func (t *Tracer) Start(context.Context) error { return nil }

// Shutdown exports the spans still batched, within ctx, and stops the exporter.
// Idempotent; a nil *Tracer returns nil.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.once.Do(func() { t.err = t.tp.Shutdown(ctx) })
	if t.err != nil {
		return fmt.Errorf("tracing shutdown: %w", t.err)
	}
	return nil
}

// Flush exports the spans that have ended, within ctx (tests and drills).
func (t *Tracer) Flush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}

// Exported returns the spans exported and the export requests that failed so far.
func (t *Tracer) Exported() (spans, failures uint64) {
	if t == nil {
		return 0, 0
	}
	return t.exp.spans.Load(), t.exp.failures.Load()
}

// Root starts a span whose parent is p (a client's traceparent), or the root of a new
// trace when p is not valid. On a nil *Tracer it returns the zero Span.
func (t *Tracer) Root(p Parent, name string) Span {
	if t == nil {
		return Span{}
	}
	ctx := context.Background()
	if p.IsValid() {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: p.TraceID, SpanID: p.SpanID,
			TraceFlags: trace.TraceFlags(p.Flags), Remote: true})
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	_, s := t.tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
	return Span{s: s, t: t}
}

// Span is one recorded span. The zero Span (tracing off) does nothing.
type Span struct {
	s trace.Span
	t *Tracer
}

// Recording reports whether s records (false for the zero Span).
func (s Span) Recording() bool { return s.s != nil && s.s.IsRecording() }

// Child starts a span below s; the zero Span's child is the zero Span.
func (s Span) Child(name string) Span {
	if s.s == nil {
		return Span{}
	}
	_, c := s.t.tr.Start(trace.ContextWithSpan(context.Background(), s.s), name)
	return Span{s: c, t: s.t}
}

// Parent returns s as the parent of a downstream call (its traceparent), or the zero
// Parent for the zero Span.
func (s Span) Parent() Parent {
	if s.s == nil {
		return Parent{}
	}
	sc := s.s.SpanContext()
	return Parent{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Flags: byte(sc.TraceFlags())}
}

// SetString sets a string attribute.
func (s Span) SetString(key, value string) {
	if s.s != nil {
		s.s.SetAttributes(attribute.String(key, value))
	}
}

// SetInt sets an integer attribute.
func (s Span) SetInt(key string, value int) {
	if s.s != nil {
		s.s.SetAttributes(attribute.Int(key, value))
	}
}

// Fail marks s as failed with err (nil is a no-op).
func (s Span) Fail(err error) {
	if s.s != nil && err != nil {
		s.s.RecordError(err)
		s.s.SetStatus(codes.Error, err.Error())
	}
}

// End ends s. Ending a span twice is a no-op (the SDK ignores the second).
func (s Span) End() {
	if s.s != nil {
		s.s.End()
	}
}

// countingExporter counts what is exported and logs failures at most once per every
// (the SDK would hand them to OpenTelemetry's global error handler, which prints to
// stderr unstructured); a failed batch is dropped.
type countingExporter struct {
	sdktrace.SpanExporter
	log             *slog.Logger
	every           time.Duration
	spans, failures atomic.Uint64
	lastLog         atomic.Int64 // unix nanos of the last logged failure
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil {
		e.spans.Add(uint64(len(spans)))
		return nil
	}
	n := e.failures.Add(1)
	now := time.Now().UnixNano()
	if last := e.lastLog.Load(); now-last >= int64(e.every) && e.lastLog.CompareAndSwap(last, now) {
		e.log.Warn("otlp export failed; spans dropped", "spans", len(spans), "failures_total", n, "err", err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
