package pprofserver

import (
	"errors"

	"github.com/bizra/bizra/internal/catalog"
)

// ErrNotLoopback is an address whose host is not a loopback address while
// Options.AllowNonLoopback is false.
var ErrNotLoopback = catalog.New(catalog.InvalidInput, "PPROF_NOT_LOOPBACK",
	"the pprof address must be a loopback address (127.0.0.1, ::1, localhost) unless non-loopback is allowed explicitly",
	"pprofserver: address is not loopback")

// ErrAddr is an address that is not host:port.
var ErrAddr = catalog.New(catalog.InvalidInput, "PPROF_BAD_ADDRESS", "the pprof address must be host:port",
	"pprofserver: invalid address")

// ErrAlreadyStarted is a second Start.
var ErrAlreadyStarted = errors.New("pprofserver: already started")
