package cluster

import "github.com/bizra/bizra/internal/catalog"

// Cluster sentinels.
var (
	// ErrOptions is a configuration the member cannot start with; the text says which.
	ErrOptions = catalog.New(catalog.Internal, "", "", "cluster: invalid options")
	// ErrMemberLost is a query whose owning member went away (killed, partitioned)
	// before it answered, with no time left to ask the key's next owner.
	ErrMemberLost = catalog.New(catalog.Unavailable, "MEMBER_LOST", "The cluster member answering this query was lost; retry", "cluster: member lost")
	// ErrRemote is a failure the owning member reported with a code this member does
	// not know; the detail carries the code.
	ErrRemote = catalog.New(catalog.Unavailable, "REMOTE_FAILED", "The cluster member answering this query failed", "cluster: remote failure")
	// ErrStart is a member that could not start (remote bind, provider); wrapped with the cause.
	ErrStart = catalog.New(catalog.Internal, "", "", "cluster: start failed")
)
