package ledger

// Append asks the ledger actor to commit one episode. Sequence, PrevHash,
// EpisodeHash, ChainHash and Efficiency are ignored (the ledger assigns them); a zero
// Timestamp is replaced by Options.Now. The reply, sent to the message's sender once
// the episode is on disk (fsync), is *Appended or *AppendFailed.
type Append struct {
	Episode Episode
}

// Appended acknowledges a committed, fsynced episode.
type Appended struct {
	Sequence    uint64
	EpisodeHash string
	ChainHash   string
}

// AppendFailed refuses or fails an Append. Code is the public catalog code of the
// sentinel (Err returns it); Detail is internal text for logs, never for clients.
type AppendFailed struct {
	Code   string
	Detail string
}

// Err returns the catalog sentinel named by Code, wrapped with Detail.
func (f *AppendFailed) Err() error {
	return &failure{sentinel: sentinelOf(f.Code), detail: f.Detail}
}

type failure struct {
	sentinel error
	detail   string
}

func (f *failure) Error() string {
	if f.detail == "" {
		return f.sentinel.Error()
	}
	return f.detail
}

func (f *failure) Unwrap() error { return f.sentinel }

func failed(err error) *AppendFailed {
	return &AppendFailed{Code: codeOf(err), Detail: err.Error()}
}
