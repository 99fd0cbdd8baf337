package bridge

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzBridge is a bridge wired for handleLine without a listener.
func fuzzBridge(t testing.TB) (*Bridge, *conn) {
	o := baseOptions(newFakeCore(), newFakeReceipts())
	fixed := time.UnixMilli(1_700_000_000_000)
	o.Now = func() time.Time { return fixed }
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b.auth = newAuthenticator(o.Token, b.opts.MaxSkew, false)
	b.started = fixed
	return b, &conn{b: b, remote: "fuzz", bucket: newBucket(0, 0, fixed)}
}

// FuzzFrame feeds arbitrary lines through the whole request pipeline (decoder, auth,
// rate limit, nonce, dispatch, handlers with fake core) and checks that every answer
// is exactly one JSON-RPC 2.0 response line and that nothing panicked.
func FuzzFrame(f *testing.F) {
	sig, _ := Sign(testToken, 1_700_000_000_000, "n-sig", "sovereign_query", json.RawMessage(`{"query":"q"}`))
	for _, s := range []string{
		`{"jsonrpc":"2.0","method":"ping","id":1,"headers":{"X-BIZRA-TOKEN":"` + testToken + `","X-BIZRA-TS":1700000000000,"X-BIZRA-NONCE":"n1"}}`,
		`{"jsonrpc":"2.0","method":"sovereign_query","id":"a","params":{"query":"q","max_depth":2},"headers":{"X-BIZRA-TOKEN":"` + testToken + `","X-BIZRA-TS":"1700000000000","X-BIZRA-NONCE":"n-sig","X-BIZRA-SIG":"` + sig + `"}}`,
		`{"jsonrpc":"2.0","method":"actuator_execute","id":null,"params":{"code":"print('hello world')"},"headers":{"X-BIZRA-TOKEN":"` + testToken + `","X-BIZRA-TS":1700000000000,"X-BIZRA-NONCE":"n2"}}`,
		`{"jsonrpc":"2.0","method":"get_receipt","id":[1],"params":{"receipt_id":"br-0000000000001-00000000000000ff"},"headers":{"X-BIZRA-TOKEN":"` + testToken + `","X-BIZRA-TS":1700000000000,"X-BIZRA-NONCE":"n3"}}`,
		`{"jsonrpc":"2.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","method":"ping","id":1,"headers":{"X-BIZRA-TOKEN":"x","X-BIZRA-TS":1e99,"X-BIZRA-NONCE":""}}`,
		`[1,2]`, `"x"`, ``, `{`, "\xff", `{"jsonrpc":"2.0"}`, `{"id":{"a":1e999}}`,
	} {
		f.Add([]byte(s))
	}
	b, c := fuzzBridge(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // framing splits there; each part is a line of its own
		}
		before := b.m.panics.Get()
		out := b.handleLine(c, line, time.Now())
		// Handlers run behind callHandler's recover: a panic there is still a bug
		// (unless the fake core was asked to panic).
		if b.m.panics.Get() != before && !bytes.Contains(line, []byte("panic")) {
			t.Fatalf("a handler panicked (recovered) on %q", line)
		}
		if len(out) == 0 || out[len(out)-1] != '\n' || bytes.IndexByte(out[:len(out)-1], '\n') >= 0 {
			t.Fatalf("not one line: %q", out)
		}
		var r struct {
			JSONRPC string           `json:"jsonrpc"`
			Result  *json.RawMessage `json:"result"`
			Error   *struct {
				Code int `json:"code"`
				Data struct {
					Code    string          `json:"code"`
					Receipt json.RawMessage `json:"receipt"`
				} `json:"data"`
			} `json:"error"`
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("response not JSON: %v: %q", err, out)
		}
		if r.JSONRPC != "2.0" || (r.Result == nil) == (r.Error == nil) || len(r.ID) == 0 {
			t.Fatalf("bad response: %s", out)
		}
		if r.Error != nil && (r.Error.Data.Code == "" || len(r.Error.Data.Receipt) == 0) {
			t.Fatalf("error without data.code/receipt: %s", out)
		}
	})
}

func TestFrameDecoderCases(t *testing.T) {
	f := func(line string, wantErr *rpcError, wantMethod string) {
		t.Helper()
		fr, err := decodeFrame([]byte(line))
		if err != wantErr {
			t.Fatalf("decodeFrame(%q) err = %v; want %v", line, err, wantErr)
		}
		if err == nil && fr.method != wantMethod {
			t.Fatalf("method = %q; want %q", fr.method, wantMethod)
		}
	}
	f(`{"jsonrpc":"2.0","method":"ping"}`, nil, "ping")
	f(`{"jsonrpc":"2.0","method":"p\u0069ng"}`, nil, "ping")
	f(`{"jsonrpc":"2\u002e0","method":"ping"}`, nil, "ping")
	f(`{"jsonrpc":"2.0","method":""}`, errMethod, "")
	f(`{"jsonrpc":2.0,"method":"ping"}`, errVersion, "")
	f(`{"jsonrpc":"2.0","method":null}`, errMethod, "")
	f(`[]`, errBatch, "")
	f(`null`, errNotObject, "")
	f(``, errParse, "")
	f("{\"a\":\"\xc0\xaf\"}", errParse, "")
	f(`{"jsonrpc":"2.0","method":"ping"} {}`, errParse, "")
}

// FuzzMemberIter checks the allocation-free member scanner against encoding/json on
// every valid JSON object: same keys, same raw values, last duplicate wins.
func FuzzMemberIter(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, ` { "a" : [1,{"b":"}"}] , "c":"\"x\\"} `, `{"a":1,"a":{"x":[]}}`,
		`{"\u0061":true,"b":null,"c":-1.5e3,"d":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		var want map[string]json.RawMessage
		// decodeFrame checks UTF-8 first; encoding/json would replace invalid bytes.
		if !utf8.Valid(obj) || !json.Valid(obj) || json.Unmarshal(obj, &want) != nil || want == nil {
			return
		}
		got := map[string]json.RawMessage{}
		it := newMemberIter(obj)
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			ks, kok := rawString(k)
			if !kok {
				t.Fatalf("key %q not a string", k)
			}
			got[ks] = v
		}
		if len(got) != len(want) {
			t.Fatalf("%d members; want %d (%s)", len(got), len(want), obj)
		}
		for k, w := range want {
			if !bytes.Equal(got[k], w) {
				t.Fatalf("member %q = %q; want %q", k, got[k], w)
			}
		}
	})
}
