package cache

import "github.com/asynkron/protoactor-go/actor"

// Sweep asks the cache actor to drop expired entries; it answers Swept.
type Sweep struct{}

// Trim asks the cache actor to evict down to Max entries; it answers Swept.
type Trim struct{ Max int }

// Swept reports how many entries an upkeep message removed and how many remain.
type Swept struct{ Removed, Remaining int }

// StatsRequest asks for StatsReply.
type StatsRequest struct{}

// StatsReply describes the store.
type StatsReply struct{ Entries, Capacity int }

// upkeep is what the actor needs of a Store of any value type.
type upkeep interface {
	Sweep() int
	Trim(max int) int
	Len() int
	Capacity() int
}

// Props returns the props of the cache actor that owns s's upkeep.
func Props[V any](s *Store[V]) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &cacheActor{store: s} })
}

type cacheActor struct{ store upkeep }

func (a *cacheActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Sweep:
		n := a.store.Sweep()
		ctx.Respond(&Swept{Removed: n, Remaining: a.store.Len()})
	case *Trim:
		n := a.store.Trim(m.Max)
		ctx.Respond(&Swept{Removed: n, Remaining: a.store.Len()})
	case *StatsRequest:
		ctx.Respond(&StatsReply{Entries: a.store.Len(), Capacity: a.store.Capacity()})
	}
}
