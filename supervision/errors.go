package supervision

import "github.com/bizra/bizra/internal/catalog"

// Sentinels of the supervision package. Match them with errors.Is.
var (
	// ErrInvalidOptions is returned by NewBackoff and ParseFaultInjection for bad settings.
	ErrInvalidOptions = catalog.New(catalog.InvalidInput, "INVALID_SUPERVISION_OPTIONS", "", "supervision: invalid options")
	// ErrInjectedFault is the panic value (wrapped) of a FaultInjection middleware.
	ErrInjectedFault = catalog.New(catalog.Internal, "INJECTED_FAULT", "", "supervision: injected fault")
)
