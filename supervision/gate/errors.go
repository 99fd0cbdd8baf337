package gate

import (
	"fmt"

	"github.com/bizra/bizra/internal/catalog"
)

// Sentinels of the gate package. Match them with errors.Is.
var (
	// ErrOptions is returned when Options lacks a hook a check needs.
	ErrOptions = catalog.New(catalog.Internal, "GATE_OPTIONS", "", "gate: incomplete options")
	// ErrUnknownCheck is returned by Run for a name not in CheckNames.
	ErrUnknownCheck = catalog.New(catalog.InvalidInput, "GATE_UNKNOWN_CHECK", "", "gate: unknown check")
)

var (
	errNoNodeBuilder = fmt.Errorf("%w: no Options.Node", ErrOptions)
	errNoSeedLake    = fmt.Errorf("%w: no Options.SeedLake", ErrOptions)
	errNoDefaults    = fmt.Errorf("%w: no Options.Defaults", ErrOptions)
	errNoMachine     = fmt.Errorf("%w: no Options.Machine", ErrOptions)
)
