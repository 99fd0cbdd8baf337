package supervision

import "github.com/bizra/bizra/actors/catalog"

// Sentinels of the supervision package. Match them with errors.Is.
var (
	// ErrInvalidOptions is returned by NewBackoff and ParseFaultInjection for bad settings.
	ErrInvalidOptions = catalog.New(catalog.InvalidInput, "INVALID_SUPERVISION_OPTIONS", "", "supervision: invalid options")
	// ErrInjectedFault is the panic value (wrapped) of a FaultInjection middleware.
	ErrInjectedFault = catalog.New(catalog.Internal, "INJECTED_FAULT", "", "supervision: injected fault")
	// ErrEscalate is panicked (wrapped) by an actor that must not be restarted in place:
	// Decide escalates it to the supervisor's own parent.
	ErrEscalate = catalog.New(catalog.Internal, "ACTOR_ESCALATED", "", "supervision: escalate failure")
	// ErrStopActor is panicked (wrapped) by an actor that must stop for good: Decide stops it.
	ErrStopActor = catalog.New(catalog.Internal, "ACTOR_STOPPED", "", "supervision: stop actor")
)
