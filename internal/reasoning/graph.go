package reasoning

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/bizra/bizra/internal/canon"
)

// NodeType is the role of a node in the graph of thought.
type NodeType string

// The node types (core.md, step 3).
const (
	Question   NodeType = "question"   // the root question and its sub-questions
	Hypothesis NodeType = "hypothesis" // a candidate answer proposed by a model decomposer
	Evidence   NodeType = "evidence"   // a passage from the data lake
	Reasoning  NodeType = "reasoning"  // what one sub-question's evidence establishes
	Synthesis  NodeType = "synthesis"  // the evidence of all sub-questions brought together
	Conclusion NodeType = "conclusion" // what the answer rests on
	Validation NodeType = "validation" // the check of the conclusion against the question
	Refinement NodeType = "refinement" // an expanded query at a further depth
)

// EdgeType is the relation an edge states.
type EdgeType string

// The edge types.
const (
	Supports    EdgeType = "supports"    // evidence → the question it answers
	Refutes     EdgeType = "refutes"     // reserved: not produced by the extractive decomposition
	Derives     EdgeType = "derives"     // question → sub-question, question → reasoning, synthesis → conclusion
	Synthesizes EdgeType = "synthesizes" // reasoning → synthesis
	Refines     EdgeType = "refines"     // question → its expanded refinement
	Validates   EdgeType = "validates"   // validation → conclusion
)

// Node is one thought. Scores are in [0,1].
type Node struct {
	ID         string   `json:"id"`
	Type       NodeType `json:"type"`
	Content    string   `json:"content"`
	Confidence float64  `json:"confidence"`
	SNR        float64  `json:"snr"`
	Depth      int      `json:"depth"`
	Source     string   `json:"source,omitempty"`
	Pruned     bool     `json:"pruned,omitempty"`
}

// Edge is a typed, weighted relation between two nodes.
type Edge struct {
	From   string   `json:"from"`
	To     string   `json:"to"`
	Type   EdgeType `json:"type"`
	Weight float64  `json:"weight"`
}

// Graph is the graph of thought of one query. Run builds a fresh one per call; it is
// not modified afterwards and may be read from several goroutines.
type Graph struct {
	Nodes    []Node   `json:"nodes"`
	Edges    []Edge   `json:"edges"`
	Roots    []string `json:"roots"`
	BestPath []string `json:"best_path"`
	Depth    int      `json:"depth"`     // depth reached
	MaxDepth int      `json:"max_depth"` // the bound it ran under
}

// ScoreScale is the fixed precision of scores in the graph hash: scores are hashed as
// integers round(score · ScoreScale).
const ScoreScale = 1_000_000

// GraphDomain is the canon domain of graph hashes.
const GraphDomain = "bizra-graph-v1"

type hashNode struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	ContentSHA256 string `json:"content_sha256"`
	Depth         int    `json:"depth"`
	Confidence    int64  `json:"confidence"`
	SNR           int64  `json:"snr"`
	Source        string `json:"source"`
	Pruned        bool   `json:"pruned"`
}

type hashEdge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Type   string `json:"type"`
	Weight int64  `json:"weight"`
}

func quantize(x float64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	return int64(math.Round(x * ScoreScale))
}

// Hash returns graph_hash: the hex SumHex(GraphDomain, canon.Marshal(v)) where v is
// {"nodes": [...], "edges": [...]} with the nodes sorted by id, each
// {id, type, content_sha256 (plain SHA-256 hex of the content), depth,
// confidence, snr (integers, round(score·ScoreScale)), source, pruned}, and the edges
// sorted by (from, to, type), each {from, to, type, weight (same scale)}. The same
// graph gives the same hash; a change to any hashed field gives another.
func (g *Graph) Hash() (string, error) {
	nodes := make([]hashNode, len(g.Nodes))
	for i, n := range g.Nodes {
		nodes[i] = hashNode{ID: n.ID, Type: string(n.Type), ContentSHA256: canon.SHA256Hex([]byte(n.Content)),
			Depth: n.Depth, Confidence: quantize(n.Confidence), SNR: quantize(n.SNR), Source: n.Source, Pruned: n.Pruned}
	}
	slices.SortFunc(nodes, func(a, b hashNode) int { return cmp.Compare(a.ID, b.ID) })
	edges := make([]hashEdge, len(g.Edges))
	for i, e := range g.Edges {
		edges[i] = hashEdge{From: e.From, To: e.To, Type: string(e.Type), Weight: quantize(e.Weight)}
	}
	slices.SortFunc(edges, func(a, b hashEdge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Weight, b.Weight))
	})
	h, err := canon.Digest(GraphDomain, struct {
		Nodes []hashNode `json:"nodes"`
		Edges []hashEdge `json:"edges"`
	}{nodes, edges})
	if err != nil {
		return "", fmt.Errorf("graph hash: %w", err)
	}
	return h, nil
}

// Artifact is the JSON body of GET /v1/artifacts/graph/{query_id}.
type Artifact struct {
	QueryID   string        `json:"query_id"`
	GraphHash string        `json:"graph_hash"`
	Nodes     []Node        `json:"nodes"`
	Edges     []Edge        `json:"edges"`
	Roots     []string      `json:"roots"`
	BestPath  []string      `json:"best_path"`
	Stats     ArtifactStats `json:"stats"`
}

// ArtifactStats summarise a graph.
type ArtifactStats struct {
	Nodes        int     `json:"nodes"`
	Edges        int     `json:"edges"`
	Depth        int     `json:"depth"`
	MaxDepth     int     `json:"max_depth"`
	Evidence     int     `json:"evidence"` // evidence nodes kept (not pruned)
	Pruned       int     `json:"pruned"`
	SubQuestions int     `json:"sub_questions"`
	DurationMs   float64 `json:"duration_ms"`
}

// Artifact returns the artifact of g for queryID. It shares g's slices (neither is
// modified after Run returns).
func (g *Graph) Artifact(queryID string, o Outcome) Artifact {
	roots := g.Roots
	if roots == nil {
		roots = []string{}
	}
	st := ArtifactStats{Nodes: len(g.Nodes), Edges: len(g.Edges), Depth: g.Depth, MaxDepth: g.MaxDepth,
		Pruned: o.Pruned, SubQuestions: len(o.SubQuestions),
		DurationMs: float64(o.Duration.Microseconds()) / 1000}
	for _, n := range g.Nodes {
		if n.Type == Evidence && !n.Pruned {
			st.Evidence++
		}
	}
	return Artifact{QueryID: queryID, GraphHash: o.GraphHash, Nodes: g.Nodes, Edges: g.Edges, Roots: roots,
		BestPath: g.BestPath, Stats: st}
}
