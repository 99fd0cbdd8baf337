package inference

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/bizra/bizra/actors/inference/mockllm"
)

// forwardBody is a client body for path.
func forwardBody(path, model string, stream bool, extra string) []byte {
	var b string
	switch path {
	case "/v1/embeddings":
		b = `{"model":"` + model + `","input":["alpha beta","gamma"]` + extra + `}`
	case "/v1/completions":
		b = `{"model":"` + model + `","prompt":"say hi","stream":` + strconv.FormatBool(stream) + extra + `}`
	case "/v1/responses":
		b = `{"model":"` + model + `","input":"hi there","stream":` + strconv.FormatBool(stream) + extra + `}`
	default:
		b = `{"model":"` + model + `","messages":[{"role":"user","content":"hi there"}],"stream":` + strconv.FormatBool(stream) + extra + `}`
	}
	return []byte(b)
}

// drain reads a ForwardStream to its end and returns its payloads.
func drain(t *testing.T, st *ForwardStream) []string {
	t.Helper()
	var out []string
	for {
		p, err := st.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		out = append(out, string(p))
	}
}

func TestForward(t *testing.T) {
	m := startMock(t, mockllm.Options{Models: []string{"m"}, Answer: "one two three"})
	set := metrics.NewSet()
	s := startService(t, testOptions(newSystem(t), set, BackendConfig{Name: "llm", Kind: KindOpenAI, URL: m.URL()}))
	hdr := map[string]string{
		"Traceparent":   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"tracestate":    "congo=t61rcWkgMzE",
		"x-request-id":  "req-42",
		"Cookie":        "session=secret", // not forwarded
		"Authorization": "Bearer client-key",
	}
	for _, tc := range []struct {
		path    string
		stream  bool
		n       int
		want    string // in the body (or the last payload)
		usageIn int
	}{
		{"/v1/embeddings", false, 0, `"embedding"`, 3},
		{"/v1/completions", false, 2, `"index":1`, 2},
		{"/v1/completions", true, 0, `"usage"`, 2},
		{"/v1/responses", false, 0, `"output_text"`, 2},
		{"/v1/responses", true, 0, `"response.completed"`, 2},
		{"/v1/chat/completions", false, 3, `"index":2`, 2},
		{"/v1/chat/completions", true, 0, `"usage"`, 2},
	} {
		t.Run(tc.path+"/stream="+strconv.FormatBool(tc.stream), func(t *testing.T) {
			extra := ""
			if tc.n > 0 {
				extra = `,"n":` + strconv.Itoa(tc.n)
			}
			body := forwardBody(tc.path, "m", tc.stream, extra)
			req := ForwardRequest{Path: tc.path, Model: "m", Body: body, Stream: tc.stream, Headers: hdr}
			var got string
			var u Usage
			if tc.stream {
				st, err := s.OpenForwardStream(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				ps := drain(t, st)
				if len(ps) < 3 || st.Backend() != "llm" {
					t.Fatalf("payloads %q backend %q", ps, st.Backend())
				}
				got, u = ps[len(ps)-1], st.Usage()
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				res, err := s.Forward(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != http.StatusOK || res.Backend != "llm" || !strings.HasPrefix(res.ContentType, "application/json") {
					t.Fatalf("response %+v", res)
				}
				got, u = string(res.Body), res.Usage
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("answer %s lacks %s", got, tc.want)
			}
			if !u.Reported || u.PromptTokens != tc.usageIn {
				t.Fatalf("usage %+v, want %d prompt tokens reported", u, tc.usageIn)
			}
			r, _ := m.LastRequest()
			if r.Path != tc.path || string(r.Body) != string(body) || r.N != tc.n {
				t.Fatalf("upstream got %s %s n=%d", r.Path, r.Body, r.N)
			}
			for k, v := range map[string]string{"Traceparent": hdr["Traceparent"], "Tracestate": hdr["tracestate"], "X-Request-Id": "req-42", "Cookie": "", "Authorization": ""} {
				if got := r.Headers.Get(k); got != v {
					t.Fatalf("header %s upstream %q, want %q", k, got, v)
				}
			}
		})
	}
	t.Run("chat headers", func(t *testing.T) {
		for _, stream := range []bool{false, true} {
			req := chatReq("m", stream)
			req.Headers = hdr
			if stream {
				if _, err := s.ChatStream(context.Background(), req, func([]byte) error { return nil }); err != nil {
					t.Fatal(err)
				}
			} else if _, err := s.Chat(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			r, _ := m.LastRequest()
			if r.Headers.Get("X-Request-Id") != "req-42" || r.Headers.Get("Traceparent") != hdr["Traceparent"] ||
				r.Headers.Get("Tracestate") != hdr["tracestate"] || r.Headers.Get("Cookie") != "" || r.Stream != stream {
				t.Fatalf("stream=%v: upstream headers %v", stream, r.Headers)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, req := range []ForwardRequest{
			{Path: "/v1/images", Model: "m", Body: []byte(`{}`)},
			{Path: "/v1/embeddings", Model: "", Body: []byte(`{}`)},
			{Path: "/v1/embeddings", Model: "m"},
			{Path: "/v1/embeddings", Model: "m", Body: []byte(`{}`), Headers: map[string]string{"X-Request-Id": "a\nb"}},
		} {
			if _, err := s.Forward(context.Background(), req); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("%+v: %v", req, err)
			}
		}
		if _, err := s.Forward(context.Background(), ForwardRequest{Path: "/v1/embeddings", Model: "nope", Body: []byte(`{"model":"nope"}`)}); !errors.Is(err, ErrModelNotFound) {
			t.Fatalf("unknown model: %v", err)
		}
	})
}

// TestFaultInferenceRetryPolicy is the retry and fallback policy, table-tested against two mocks
// serving the same model, for Forward, a forwarded stream and Chat.
func TestFaultInferenceRetryPolicy(t *testing.T) {
	bad400 := mockllm.ErrorReply{Status: 400, Message: "Invalid schema for function get_weather",
		Type: "invalid_request_error", Param: "tools[0].function.parameters", Code: "invalid_function_parameters"}
	rate := func(ra string) mockllm.ErrorReply {
		return mockllm.ErrorReply{Status: 429, Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded", RetryAfter: ra}
	}
	srv := func(st int) mockllm.ErrorReply {
		return mockllm.ErrorReply{Status: st, Message: "upstream broke", Type: "server_error"}
	}
	type want struct {
		err      *UpstreamError // nil: success
		backend  string         // on success
		aN, bN   int            // requests each mock got
		sentinel error
	}
	for _, tc := range []struct {
		name  string
		a, b  *mockllm.ErrorReply
		aDown bool
		want  want
	}{
		{name: "400 is final", a: &bad400,
			want: want{err: &UpstreamError{Status: 400, Type: bad400.Type, Param: bad400.Param, Code: bad400.Code, Message: bad400.Message, Backend: "a"}, aN: 1, bN: 0, sentinel: ErrBackendRejected}},
		{name: "401 is final", a: &mockllm.ErrorReply{Status: 401, Message: "Incorrect API key provided: sk-abcdefgh1234", Type: "invalid_request_error", Code: "invalid_api_key"},
			want: want{err: &UpstreamError{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided: [redacted]", Backend: "a"}, aN: 1, sentinel: ErrBackendRejected}},
		{name: "404 is final", a: &mockllm.ErrorReply{Status: 404, Message: "no such thing", Type: "invalid_request_error", Code: "model_not_found"},
			want: want{err: &UpstreamError{Status: 404, Type: "invalid_request_error", Code: "model_not_found", Message: "no such thing", Backend: "a"}, aN: 1, sentinel: ErrBackendRejected}},
		{name: "422 is final", a: &mockllm.ErrorReply{Status: 422, Message: "bad", Param: "input"},
			want: want{err: &UpstreamError{Status: 422, Param: "input", Message: "bad", Backend: "a"}, aN: 1, sentinel: ErrBackendRejected}},
		{name: "429 falls back without retry", a: ptr(rate("7")),
			want: want{backend: "b", aN: 1, bN: 1}},
		{name: "429 everywhere returns the last 429", a: ptr(rate("3")), b: ptr(rate("7")),
			want: want{err: &UpstreamError{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached", RetryAfter: "7", Backend: "b"}, aN: 1, bN: 1, sentinel: ErrOverloaded}},
		{name: "500 retried then falls back", a: ptr(srv(500)),
			want: want{backend: "b", aN: 3, bN: 1}},
		{name: "503 everywhere returns the last 503", a: ptr(srv(503)), b: ptr(srv(503)),
			want: want{err: &UpstreamError{Status: 503, Type: "server_error", Message: "upstream broke", Backend: "b"}, aN: 3, bN: 3, sentinel: ErrBackend}},
		{name: "connection refused falls back", aDown: true,
			want: want{backend: "b", aN: 0, bN: 1}},
		{name: "secrets redacted", a: &mockllm.ErrorReply{Status: 400, Type: "invalid_request_error",
			Message: "bad auth Bearer abc.def-123 at https://user:pw@host/x with api_key=k123"},
			want: want{err: &UpstreamError{Status: 400, Type: "invalid_request_error", Backend: "a",
				Message: "bad auth Bearer [redacted] at https://[redacted]@host/x with api_key=[redacted]"}, aN: 1, sentinel: ErrBackendRejected}},
	} {
		for _, mode := range []string{"forward", "stream", "chat"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				ma := startMock(t, mockllm.Options{Models: []string{"m"}})
				mb := startMock(t, mockllm.Options{Models: []string{"m"}})
				s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
					BackendConfig{Name: "a", Kind: KindOpenAI, URL: ma.URL(), Model: "m"},
					BackendConfig{Name: "b", Kind: KindOpenAI, URL: mb.URL(), Model: "m"}))
				if _, err := s.Chat(context.Background(), chatReq("m", false)); err != nil { // both up and listed
					t.Fatal(err)
				}
				ma.Reset()
				mb.Reset()
				if tc.a != nil {
					ma.SetError("", *tc.a)
				}
				if tc.b != nil {
					mb.SetError("", *tc.b)
				}
				if tc.aDown {
					if err := ma.SetDown(mockllm.DownRefuse); err != nil {
						t.Fatal(err)
					}
				}
				var backend string
				var err error
				switch mode {
				case "forward":
					var res ForwardResponse
					res, err = s.Forward(context.Background(), ForwardRequest{Path: "/v1/embeddings", Model: "m", Body: forwardBody("/v1/embeddings", "m", false, "")})
					backend = res.Backend
				case "stream":
					var st *ForwardStream
					st, err = s.OpenForwardStream(context.Background(), ForwardRequest{Path: "/v1/completions", Model: "m", Stream: true, Body: forwardBody("/v1/completions", "m", true, "")})
					if err == nil {
						backend = st.Backend()
						drain(t, st)
						_ = st.Close()
					}
				default:
					var res ChatResponse
					res, err = s.Chat(context.Background(), chatReq("m", false))
					backend = res.Backend
				}
				count := func(m *mockllm.Server) int {
					n := 0
					for _, r := range m.Requests() {
						if r.Path != "/v1/models" {
							n++
						}
					}
					return n
				}
				if got := [2]int{count(ma), count(mb)}; got != [2]int{tc.want.aN, tc.want.bN} {
					t.Fatalf("requests a,b = %v, want %d,%d (err %v)", got, tc.want.aN, tc.want.bN, err)
				}
				if tc.want.err == nil {
					if err != nil || backend != tc.want.backend {
						t.Fatalf("err %v backend %q, want success on %s", err, backend, tc.want.backend)
					}
					return
				}
				var ue *UpstreamError
				if !errors.As(err, &ue) {
					t.Fatalf("err %v, want an UpstreamError", err)
				}
				if *ue != *tc.want.err {
					t.Fatalf("upstream error\n got %+v\nwant %+v", *ue, *tc.want.err)
				}
				if !errors.Is(err, tc.want.sentinel) {
					t.Fatalf("err %v is not %v", err, tc.want.sentinel)
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestNewUpstreamError(t *testing.T) {
	cfg := BackendConfig{Name: "x", APIKey: "s3cr3t-key-value"}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		ra     string
		want   UpstreamError
	}{
		{"openai", 400, `{"error":{"message":"m","type":"t","param":"p","code":"c"}}`, "",
			UpstreamError{Status: 400, Message: "m", Type: "t", Param: "p", Code: "c", Backend: "x"}},
		{"numeric code and nulls", 400, `{"error":{"message":"m","type":null,"param":null,"code":400}}`, "",
			UpstreamError{Status: 400, Message: "m", Code: "400", Backend: "x"}},
		{"ollama", 404, `{"error":"model \"q\" not found"}`, "",
			UpstreamError{Status: 404, Message: `model "q" not found`, Backend: "x"}},
		{"html", 502, `<html>bad gateway</html>`, "",
			UpstreamError{Status: 502, Message: "Bad Gateway", Backend: "x"}},
		{"retry-after kept", 429, `{}`, "Wed, 21 Oct 2015 07:28:00 GMT",
			UpstreamError{Status: 429, Message: "Too Many Requests", RetryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", Backend: "x"}},
		{"retry-after with control bytes dropped", 429, `{}`, "7\x01",
			UpstreamError{Status: 429, Message: "Too Many Requests", Backend: "x"}},
		{"own key redacted", 401, `{"error":{"message":"key s3cr3t-key-value refused"}}`, "",
			UpstreamError{Status: 401, Message: "key [redacted] refused", Backend: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newUpstreamError(cfg, tc.status, []byte(tc.body), tc.ra); *got != tc.want {
				t.Fatalf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
	long := newUpstreamError(cfg, 400, []byte(`{"error":{"message":"`+strings.Repeat("é", 5000)+`"}}`), "")
	if len(long.Message) > maxUpstreamMessage || !json.Valid([]byte(strconv.Quote(long.Message))) {
		t.Fatalf("message of %d bytes", len(long.Message))
	}
}

func TestTokensCounted(t *testing.T) {
	m := startMock(t, mockllm.Options{Models: []string{"m"}, Answer: "one two three"})
	set := metrics.NewSet()
	s := startService(t, testOptions(newSystem(t), set, BackendConfig{Name: "llm", Kind: KindOpenAI, URL: m.URL(), Model: "m"}))
	value := func(dir string) int {
		return int(set.GetOrCreateCounter(`sovereign_tokens_total{model="m",direction="` + dir + `"}`).Get())
	}
	ctx := context.Background()
	steps := []struct {
		name    string
		run     func() (Usage, error)
		in, out int // reported by the mock
	}{
		{"forward embeddings", func() (Usage, error) {
			r, err := s.Forward(ctx, ForwardRequest{Path: "/v1/embeddings", Model: "m", Body: forwardBody("/v1/embeddings", "m", false, "")})
			return r.Usage, err
		}, 3, 0},
		{"forward completions n=2", func() (Usage, error) {
			r, err := s.Forward(ctx, ForwardRequest{Path: "/v1/completions", Model: "m", Body: forwardBody("/v1/completions", "m", false, `,"n":2`)})
			return r.Usage, err
		}, 2, 6},
		{"forward stream", func() (Usage, error) {
			st, err := s.OpenForwardStream(ctx, ForwardRequest{Path: "/v1/responses", Model: "m", Stream: true, Body: forwardBody("/v1/responses", "m", true, "")})
			if err != nil {
				return Usage{}, err
			}
			defer st.Close()
			drain(t, st)
			return st.Usage(), nil
		}, 2, 3},
		{"chat", func() (Usage, error) {
			r, err := s.Chat(ctx, chatReq("m", false))
			return r.Usage, err
		}, 11, 3},
		{"pipeline answer", func() (Usage, error) {
			a, err := askAnswer(s, ctx, sampleRequest())
			return a.Usage, err
		}, -1, 3},
	}
	for _, st := range steps {
		in0, out0 := value("in"), value("out")
		u, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !u.Reported || (st.in >= 0 && u.PromptTokens != st.in) || u.CompletionTokens != st.out {
			t.Fatalf("%s: usage %+v, want in %d out %d", st.name, u, st.in, st.out)
		}
		if d := value("in") - in0; d != u.PromptTokens {
			t.Fatalf("%s: counted %d in, usage %d", st.name, d, u.PromptTokens)
		}
		if d := value("out") - out0; d != u.CompletionTokens {
			t.Fatalf("%s: counted %d out, usage %d", st.name, d, u.CompletionTokens)
		}
	}
}

func TestTokenLabelsBounded(t *testing.T) {
	set := metrics.NewSet()
	tc := newTokenCounter(set, 2)
	for _, m := range []string{"a", "b", "c", `bad"name`, "a"} {
		tc.count(m, Usage{PromptTokens: 1, CompletionTokens: 2})
	}
	want := map[string]uint64{"a": 2, "b": 1, "other": 2}
	for m, n := range want {
		if got := set.GetOrCreateCounter(`sovereign_tokens_total{model="` + m + `",direction="in"}`).Get(); got != n {
			t.Fatalf("model %s: %d, want %d", m, got, n)
		}
	}
	if got := len(tc.models); got != 3 {
		t.Fatalf("%d label values, want 2 + other", got)
	}
	if strings.Contains(exposition(set), `model="c"`) {
		t.Fatal("a model over the cap got its own label")
	}
}

func TestParseUsage(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Usage
		ok   bool
	}{
		{`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`, Usage{3, 4, true}, true},
		{`{"object":"list","usage" : {"prompt_tokens":5,"total_tokens":5}}`, Usage{5, 0, true}, true},
		{`{"type":"response.completed","response":{"output":[],"usage":{"input_tokens":2,"output_tokens":9}}}`, Usage{2, 9, true}, true},
		{`{"choices":[{"text":"the \"usage\": field"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`, Usage{1, 1, true}, true},
		{`{"choices":[{"text":"the \"usage\": field"}]}`, Usage{}, false},
		{`{"usage":null}`, Usage{}, false},
		{`{"usage":{"prompt_tokens":"x"}}`, Usage{}, false},
		{`{"usage"`, Usage{}, false},
	} {
		if got, ok := parseUsage([]byte(tc.body)); got != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v %v, want %+v %v", tc.body, got, ok, tc.want, tc.ok)
		}
	}
}
