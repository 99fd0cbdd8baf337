package cache

import (
	"testing"

	"github.com/bizra/bizra/actors/query"
)

func BenchmarkGetHit(b *testing.B) {
	s, _ := New(Options{})
	k := key(b, "how do I check bridge health?")
	s.Put(k, query.Result{Response: "x"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := s.Get(k); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkPut(b *testing.B) {
	s, _ := New(Options{})
	keys := make([]Key, 4096)
	for i := range keys {
		keys[i][0], keys[i][1], keys[i][8] = byte(i), byte(i>>8), byte(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Put(keys[i&4095], query.Result{})
		i++
	}
}

func BenchmarkKeyOf(b *testing.B) {
	r := query.NewRequest("how do I check bridge health?")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KeyOf(&r); err != nil {
			b.Fatal(err)
		}
	}
}
