package openai

import (
	"encoding/json"

	"github.com/bizra/bizra/internal/catalog"
)

// ErrInvalidRequest is the sentinel of every request the decoder refuses (400,
// rendered as OpenAI's invalid_request_error with the parameter named).
var ErrInvalidRequest = catalog.New(catalog.InvalidInput, "INVALID_REQUEST", "Invalid request", "openai: invalid request")

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

// ErrInternal: the front failed on its own (a response it could not encode).
var ErrInternal = catalog.New(catalog.Internal, "INTERNAL", "Internal error", "openai: internal error")
