package receipt

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// refMTH and refPath are RFC 6962 section 2.1 written recursively, as the RFC does.
func refMTH(d [][32]byte) [32]byte {
	switch len(d) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return LeafNode(d[0])
	}
	k := split(len(d))
	return InnerNode(refMTH(d[:k]), refMTH(d[k:]))
}

func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func refPath(m int, d [][32]byte) [][32]byte {
	if len(d) <= 1 {
		return nil
	}
	k := split(len(d))
	if m < k {
		return append(refPath(m, d[:k]), refMTH(d[k:]))
	}
	return append(refPath(m-k, d[k:]), refMTH(d[:k]))
}

func testLeaves(n int) [][32]byte {
	out := make([][32]byte, n)
	for i := range out {
		out[i] = sha256.Sum256(fmt.Appendf(nil, "leaf %d", i))
	}
	return out
}

func TestTreeMatchesRFC6962(t *testing.T) {
	leaves := testLeaves(70)
	for n := 0; n <= len(leaves); n++ {
		tree := NewTree(leaves[:n])
		if tree.Root() != refMTH(leaves[:n]) {
			t.Fatalf("n=%d root differs from the recursive definition", n)
		}
		for i := range n {
			p := tree.Proof(i)
			want := refPath(i, leaves[:n])
			if fmt.Sprint(p) != fmt.Sprint(want) {
				t.Fatalf("n=%d i=%d proof differs", n, i)
			}
			if !VerifyInclusion(leaves[i], uint64(i), uint64(n), p, tree.Root()) {
				t.Fatalf("n=%d i=%d does not verify", n, i)
			}
		}
	}
}

func TestInclusionProofsAtBatchSizes(t *testing.T) {
	for _, n := range []int{1, 2, 3, 1024, 1025} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			leaves := testLeaves(n)
			tree := NewTree(leaves)
			root := tree.Root()
			for i := range n {
				p := tree.Proof(i)
				if !VerifyInclusion(leaves[i], uint64(i), uint64(n), p, root) {
					t.Fatalf("index %d does not verify", i)
				}
			}
			last := n - 1
			p := tree.Proof(last)
			other := leaves[0]
			other[0] ^= 1
			if VerifyInclusion(other, uint64(last), uint64(n), p, root) {
				t.Fatal("a different leaf verified")
			}
			if n > 1 {
				if VerifyInclusion(leaves[last], uint64(last-1), uint64(n), p, root) {
					t.Fatal("a wrong index verified")
				}
				if VerifyInclusion(leaves[last], uint64(last), uint64(n+1), p, root) {
					t.Fatal("a wrong size verified")
				}
				bad := append([][32]byte(nil), p...)
				bad[0][5] ^= 0x80
				if VerifyInclusion(leaves[last], uint64(last), uint64(n), bad, root) {
					t.Fatal("a tampered proof verified")
				}
				if VerifyInclusion(leaves[last], uint64(last), uint64(n), p[:len(p)-1], root) {
					t.Fatal("a short proof verified")
				}
			}
			if VerifyInclusion(leaves[last], uint64(last), uint64(n), append(p, root), root) {
				t.Fatal("a long proof verified")
			}
			if VerifyInclusion(leaves[0], uint64(n), uint64(n), p, root) {
				t.Fatal("index == size verified")
			}
		})
	}
}
