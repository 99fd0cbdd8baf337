package index

// Citation is the source of one "[n]" marker of an answer (api.md, POST /v1/query:
// citations): the evidence passage it quotes (Source, as in Evidence), the document
// lines the quoted unit spans (Lines = [LineStart, LineEnd], 1-based, both carried so
// clients of either shape read it) and the unit as the document has it (Excerpt).
// Declared here beside Evidence so that inference, scoring and the query pipeline
// share one shape.
type Citation struct {
	Marker    int    `json:"marker"`
	Source    string `json:"source"`
	Lines     [2]int `json:"lines"`
	LineStart int    `json:"line_start"`
	LineEnd   int    `json:"line_end"`
	Excerpt   string `json:"excerpt"`
}

// SourceLine returns the line a Source names (its ":L<n>" anchor), 0 when it has none.
func SourceLine(source string) int {
	for i := len(source) - 1; i >= 1; i-- {
		if source[i-1] == ':' && source[i] == 'L' {
			n := 0
			for _, c := range source[i+1:] {
				if c < '0' || c > '9' || n > 1<<30 {
					return 0
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}
