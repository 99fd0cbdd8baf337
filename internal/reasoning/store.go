package reasoning

import "sync"

// DefaultArtifactCapacity is how many artifacts an ArtifactStore keeps (core.md: the
// last 1,000 queries).
const DefaultArtifactCapacity = 1000

// ArtifactStore keeps the artifacts of the most recent queries, by query id, evicting
// the oldest insertion when full. It is safe for concurrent use; Put and Get are O(1).
type ArtifactStore struct {
	mu    sync.Mutex
	cap   int
	ring  []string // query ids in insertion order, ring[head] is the oldest
	head  int
	items map[string]Artifact
}

// NewArtifactStore returns a store of the given capacity (≤ 0 → DefaultArtifactCapacity).
func NewArtifactStore(capacity int) *ArtifactStore {
	if capacity <= 0 {
		capacity = DefaultArtifactCapacity
	}
	return &ArtifactStore{cap: capacity, ring: make([]string, 0, capacity), items: make(map[string]Artifact, capacity)}
}

// Put stores a under a.QueryID. Storing an id again replaces its artifact without
// changing its age. The caller must not modify a's slices afterwards.
func (s *ArtifactStore) Put(a Artifact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[a.QueryID]; ok {
		s.items[a.QueryID] = a
		return
	}
	if len(s.ring) < s.cap {
		s.ring = append(s.ring, a.QueryID)
	} else {
		delete(s.items, s.ring[s.head])
		s.ring[s.head] = a.QueryID
		s.head = (s.head + 1) % s.cap
	}
	s.items[a.QueryID] = a
}

// Get returns the artifact of queryID; false when unknown or evicted.
func (s *ArtifactStore) Get(queryID string) (Artifact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.items[queryID]
	return a, ok
}

// Len returns the number of artifacts held.
func (s *ArtifactStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
