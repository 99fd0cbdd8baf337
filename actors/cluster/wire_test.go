package cluster

import (
	"errors"
	"testing"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
)

func TestWireRoundTrip(t *testing.T) {
	req := query.NewRequest("how do I check bridge health?")
	req.Context, req.UserID, req.Method = map[string]any{"k": 1.5}, "u", "POST /v1/query"
	b, err := encodeRequest(&req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRequest(b)
	if err != nil || got.Query != req.Query || got.Method != req.Method || got.UserID != "u" || got.Context["k"] != 1.5 {
		t.Fatalf("request %+v, %v", got, err)
	}
	k1, _ := query.CacheKey(&req)
	k2, _ := query.CacheKey(&got)
	if k1 != k2 {
		t.Fatal("the cache key changed over the wire")
	}
	snr := 0.9
	res := query.Result{QueryID: "q-1", Success: true, SNRScore: &snr, ReceiptID: "qr-1",
		Detail: query.Detail{LeafHash: "leaf", Episode: &query.EpisodeRef{Sequence: 7, Hash: "h"}, Components: map[string]float64{"a": 1}}}
	b, err = encodeResult(&res)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeResult(b)
	if err != nil || back.QueryID != "q-1" || *back.SNRScore != snr || back.Detail.LeafHash != "leaf" ||
		back.Detail.Episode.Sequence != 7 || back.Detail.Components["a"] != 1 {
		t.Fatalf("result %+v, %v", back, err)
	}
}

func TestWireErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want     error
		wantCode string
	}{
		{"timeout", query.ErrTimeout, query.ErrTimeout, "TIMEOUT"},
		{"invalid with detail", catalog.WithDetail(query.ErrInvalidQuery, "max_depth: must be 1..10"), query.ErrInvalidQuery, "INVALID_QUERY"},
		{"member lost", ErrMemberLost, ErrMemberLost, "MEMBER_LOST"},
		{"unknown code", errors.New("disk on fire"), ErrRemote, "REMOTE_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := answerError(errorAnswer("m1", tt.err))
			if !errors.Is(got, tt.want) || catalog.Lookup(got).Code != tt.wantCode {
				t.Fatalf("%v → %v (%s)", tt.err, got, catalog.Lookup(got).Code)
			}
			if d := catalog.Detail(tt.err); d != "" && catalog.Detail(got) != d {
				t.Fatalf("detail %q lost: %q", d, catalog.Detail(got))
			}
		})
	}
}

// FuzzDecode: whatever bytes a member sends, decoding fails cleanly or yields values.
func FuzzDecode(f *testing.F) {
	req := query.NewRequest("q")
	b, _ := encodeRequest(&req)
	f.Add(b)
	f.Add([]byte(`{"result":{"query_id":"x"},"detail":{"Episode":{"sequence":1}}}`))
	f.Add([]byte(`{"request":{"context":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeRequest(b); err == nil {
			_ = query.Validate(&r)
		} else if !errors.Is(err, query.ErrInvalidQuery) {
			t.Fatalf("request error %v is not INVALID_QUERY", err)
		}
		if _, err := decodeResult(b); err != nil && !errors.Is(err, ErrRemote) {
			t.Fatalf("result error %v is not REMOTE_FAILED", err)
		}
		_ = answerError(&QueryAnswer{ErrorCode: string(b), ErrorText: string(b)})
	})
}
