package cache

import (
	"testing"
)

func BenchmarkGetHit(b *testing.B) {
	s, _ := New[result](Options{})
	k := key(b, "how do I check bridge health?")
	s.Put(k, result{Response: "x"})
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
	s, _ := New[result](Options{})
	keys := make([]Key, 4096)
	for i := range keys {
		keys[i][0], keys[i][1], keys[i][8] = byte(i), byte(i>>8), byte(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Put(keys[i&4095], result{})
		i++
	}
}
