package receipt

import (
	"crypto/sha256"
)

// MaxProofLen bounds an audit path: 2^64 leaves need at most 64 siblings.
const MaxProofLen = 64

// LeafNode returns the RFC 6962 leaf node hash SHA-256(0x00 ‖ leaf).
func LeafNode(leaf [32]byte) [32]byte {
	var buf [33]byte
	copy(buf[1:], leaf[:])
	return sha256.Sum256(buf[:])
}

// InnerNode returns the RFC 6962 interior node hash SHA-256(0x01 ‖ l ‖ r).
func InnerNode(l, r [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// Tree is an RFC 6962 Merkle tree over leaf hashes, kept level by level: level 0 holds
// the leaf nodes; each next level pairs neighbours and carries an unpaired last node up
// unchanged, which yields exactly RFC 6962's Merkle Tree Hash (split at the largest
// power of two below n).
type Tree struct {
	levels [][][32]byte
}

// NewTree builds the tree over leaves (leaf hashes, not yet leaf nodes). An empty
// input yields a tree whose Root is SHA-256 of the empty string, as in RFC 6962.
func NewTree(leaves [][32]byte) *Tree {
	t := &Tree{}
	if len(leaves) == 0 {
		return t
	}
	lvl := make([][32]byte, len(leaves))
	for i, l := range leaves {
		lvl[i] = LeafNode(l)
	}
	t.levels = append(t.levels, lvl)
	for len(lvl) > 1 {
		next := make([][32]byte, (len(lvl)+1)/2)
		for i := 0; i+1 < len(lvl); i += 2 {
			next[i/2] = InnerNode(lvl[i], lvl[i+1])
		}
		if len(lvl)%2 == 1 {
			next[len(next)-1] = lvl[len(lvl)-1]
		}
		t.levels = append(t.levels, next)
		lvl = next
	}
	return t
}

// Size returns the number of leaves.
func (t *Tree) Size() int {
	if len(t.levels) == 0 {
		return 0
	}
	return len(t.levels[0])
}

// Root returns the Merkle Tree Hash.
func (t *Tree) Root() [32]byte {
	if len(t.levels) == 0 {
		return sha256.Sum256(nil)
	}
	return t.levels[len(t.levels)-1][0]
}

// Proof returns the audit path of leaf i, from the leaf upwards (RFC 6962 PATH).
func (t *Tree) Proof(i int) [][32]byte {
	if i < 0 || i >= t.Size() {
		return nil
	}
	path := make([][32]byte, 0, len(t.levels))
	for _, lvl := range t.levels[:len(t.levels)-1] {
		if sib := i ^ 1; sib < len(lvl) {
			path = append(path, lvl[sib])
		}
		i >>= 1
	}
	return path
}

// VerifyInclusion checks an audit path for leaf hash leaf at index of size against
// root, following RFC 9162 section 2.1.3.2.
func VerifyInclusion(leaf [32]byte, index, size uint64, proof [][32]byte, root [32]byte) bool {
	if index >= size || len(proof) > MaxProofLen {
		return false
	}
	fn, sn := index, size-1
	r := LeafNode(leaf)
	for _, p := range proof {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = InnerNode(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = InnerNode(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}
