package receipt

import (
	"bytes"
	"math"
	"sync/atomic"
	"testing"

	"github.com/bizra/bizra/internal/canon"
)

func bodyFor(method, reason, node string, dur float64, snr *float64) Body {
	origin, _ := canon.Marshal(map[string]any{"designation": "node0", "z": []any{1, "é"}})
	return Body{
		ReceiptID: "qr-1772366400100-00000000000000a1", Version: Version, Kind: KindQuery, Status: StatusAccepted,
		Method: method, NodeID: node, QueryDigest: "q", PolicyDigest: "p", PayloadDigest: "d",
		Origin: origin, OriginDigest: "o", SNR: snr, Ihsan: f64(0.95), FateScore: nil,
		GatePassed: true, Reason: reason, DurationMS: dur, Timestamp: "2026-03-01T12:00:00.123456789Z",
	}
}

func checkFastCanonical(t *testing.T, b Body) {
	t.Helper()
	want, werr := canon.Marshal(&b)
	got, gerr := appendBodyCanonical(nil, &b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("errors differ: canon %v, fast %v", werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("fast canonical differs\n got %s\nwant %s", got, want)
	}
}

func TestFastBodyCanonicalMatchesCanon(t *testing.T) {
	strs := []string{"", "plain", `quote " backslash \ slash /`, "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<&> html",
		"é 中文 🙂", "\u2028\u2029", "\ufeff bom", "\xff invalid", "a\xc3", "\U0010ffff"}
	nums := []float64{0, math.Copysign(0, -1), 1, -1, 0.1 + 0.2, 1e21, 1e20, 1e-6, 1e-7, 5e-324,
		math.MaxFloat64, 123456789.123, 12.345, -0.5}
	for _, s := range strs {
		for _, n := range nums {
			checkFastCanonical(t, bodyFor(s, s, s, n, &n))
		}
	}
	checkFastCanonical(t, bodyFor("m", "r", "n", 1, nil))
	nan := math.NaN()
	checkFastCanonical(t, bodyFor("m", "r", "n", 1, &nan))
}

func FuzzFastBodyCanonical(f *testing.F) {
	f.Add("POST /v1/query", "reason \"x\"", "node0_x", 12.345, 0.873, true)
	f.Add("\x00", "\xff", "", 1e21, math.Copysign(0, -1), false)
	f.Fuzz(func(t *testing.T, method, reason, node string, dur, snr float64, gate bool) {
		b := bodyFor(method, reason, node, dur, &snr)
		b.GatePassed = gate
		checkFastCanonical(t, b)
	})
}

func TestOriginCache(t *testing.T) {
	var c atomic.Pointer[originCache]
	a := map[string]any{"designation": "ephemeral_node"}
	b := map[string]any{"designation": "node0"}
	ca, da, _ := originOf(&c, a)
	cb, db, _ := originOf(&c, b)
	ca2, da2, _ := originOf(&c, a)
	if da == db || !bytes.Equal(ca, ca2) || da != da2 || bytes.Equal(ca, cb) {
		t.Fatal("origin cache mixes snapshots")
	}
	if string(ca) != `{"designation":"ephemeral_node"}` || da != canon.SumHex(DomainOrigin, ca) {
		t.Fatalf("%s %s", ca, da)
	}
	e, _, _ := originOf(&c, nil)
	if string(e) != "{}" {
		t.Fatalf("nil origin %s", e)
	}
	// Fresh maps with new content every call are never confused (the cache holds its map).
	for i := range 1000 {
		m := map[string]any{"i": i}
		got, _, _ := originOf(&c, m)
		want, _ := canon.Marshal(m)
		if !bytes.Equal(got, want) {
			t.Fatalf("fresh map %d: %s", i, got)
		}
	}
}
