package gateway

import (
	"encoding/json"
	"slices"

	"github.com/bizra/bizra/internal/canon"
)

// GET /v1/health is polled by every load balancer and supervisor: appendHealth writes
// its document without reflection (health_json_test.go pins it against encoding/json
// and budgets its allocations). The checks hold a handful of keys whose values are
// booleans, strings or null; any other value goes through encoding/json.

// maxHealthChecks bounds the checks sorted on the stack; more fall back to the heap.
const maxHealthChecks = 16

// appendHealth writes h as encoding/json would (same members, same order, checks by
// sorted key).
func appendHealth(dst []byte, h *Health) ([]byte, error) {
	dst = append(dst, `{"status":`...)
	dst = canon.AppendString(dst, h.Status)
	dst = append(dst, `,"version":`...)
	dst = canon.AppendString(dst, h.Version)
	dst = append(dst, `,"uptime_s":`...)
	dst = appendFloat(dst, h.UptimeS)
	dst = append(dst, `,"checks":`...)
	if h.Checks == nil {
		return append(dst, "null}"...), nil
	}
	var arr [maxHealthChecks]string
	keys := arr[:0]
	for k := range h.Checks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(canon.AppendString(dst, k), ':')
		switch v := h.Checks[k].(type) {
		case nil:
			dst = append(dst, "null"...)
		case bool:
			dst = canon.AppendBool(dst, v)
		case string:
			dst = canon.AppendString(dst, v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return dst, err
			}
			dst = append(dst, b...)
		}
	}
	return append(dst, '}', '}'), nil
}
