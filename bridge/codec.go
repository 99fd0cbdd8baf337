package bridge

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// JSON-RPC error codes (bridge.md, a compatibility contract).
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeBusy           = -32000 // rate limit, server busy, nonce store full
	CodeAuthMissing    = -32001
	CodeAuthInvalid    = -32002
	CodeAuthStale      = -32003
	CodeNonceReplay    = -32004
)

// envelope is one request line as decoded, every member kept raw (a sub-slice of the
// line: member names match exactly, the last duplicate wins) so that the id is echoed
// byte for byte and each member's type is checked where bridge.md says.
type envelope struct {
	JSONRPC json.RawMessage `json:"jsonrpc"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
	Headers json.RawMessage `json:"headers"`
}

// frame is a request that passed steps 1-3 of the pipeline.
type frame struct {
	id      json.RawMessage // nil when absent (rendered null)
	method  string
	params  json.RawMessage // nil when absent
	headers json.RawMessage // nil when absent
}

// rpcError is one error response before rendering.
type rpcError struct {
	code    int
	message string
	data    errorData
}

// errorData is the `data` member of every error response.
type errorData struct {
	Code         string      `json:"code"`
	Receipt      *ReceiptRef `json:"receipt"`
	Member       string      `json:"member,omitempty"`
	Detail       string      `json:"detail,omitempty"`
	RetryAfterMs int64       `json:"retry_after_ms,omitempty"`
	Entropy      *float64    `json:"entropy,omitempty"`
	Threshold    *float64    `json:"threshold,omitempty"`
}

func newRPCError(code int, msg, dataCode string) *rpcError {
	return &rpcError{code: code, message: msg, data: errorData{Code: dataCode}}
}

// Frame-level errors, shared (never mutated: render copies data).
var (
	errParse       = newRPCError(CodeParseError, "Parse error", "PARSE_ERROR")
	errBatch       = newRPCError(CodeInvalidRequest, "Invalid Request: batches are not supported", "INVALID_REQUEST")
	errNotObject   = newRPCError(CodeInvalidRequest, "Invalid Request", "INVALID_REQUEST")
	errVersion     = newRPCError(CodeInvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"", "INVALID_REQUEST")
	errMethod      = newRPCError(CodeInvalidRequest, "Missing or invalid 'method'", "INVALID_METHOD")
	errTooLarge    = newRPCError(CodeInvalidRequest, "Message too large", "MESSAGE_TOO_LARGE")
	errLineTimeout = newRPCError(CodeInvalidRequest, "Request line not completed in time", "LINE_TIMEOUT")
	errBusy        = newRPCError(CodeBusy, "Server busy, retry later", "SERVER_BUSY")
)

// decodeFrame runs pipeline steps 1-3: parse (JSON and UTF-8), envelope, method. The
// returned frame's raw members alias line: copy what must outlive the request.
func decodeFrame(line []byte) (frame, *rpcError) {
	var fr frame
	if len(bytes.TrimSpace(line)) == 0 || !utf8.Valid(line) {
		return fr, errParse
	}
	if t := bytes.TrimLeft(line, " \t\r"); t[0] != '{' {
		switch {
		case !json.Valid(line):
			return fr, errParse
		case t[0] == '[':
			return fr, errBatch
		default:
			return fr, errNotObject
		}
	}
	if !json.Valid(line) {
		return fr, errParse
	}
	var env envelope
	it := newMemberIter(line)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		switch {
		case keyIs(k, "jsonrpc"):
			env.JSONRPC = v
		case keyIs(k, "method"):
			env.Method = v
		case keyIs(k, "params"):
			env.Params = v
		case keyIs(k, "id"):
			env.ID = v
		case keyIs(k, "headers"):
			env.Headers = v
		}
	}
	if len(env.ID) > 0 {
		fr.id = env.ID
	}
	if v, ok := rawString(env.JSONRPC); !ok || v != "2.0" {
		return fr, errVersion
	}
	m, ok := rawString(env.Method)
	if !ok || m == "" {
		return fr, errMethod
	}
	fr.method = m
	if len(env.Params) > 0 {
		fr.params = env.Params
	}
	if len(env.Headers) > 0 {
		fr.headers = env.Headers
	}
	return fr, nil
}

// rawString decodes a raw JSON value that must be a string. raw is valid JSON.
func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

var nullID = []byte("null")

// appendResult renders a success response line (with its trailing newline).
// result must be a JSON object; ref is spliced in as its last member "receipt".
func appendResult(dst []byte, id json.RawMessage, result []byte, ref *ReceiptRef) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","result":`...)
	body := bytes.TrimSpace(result)
	if len(body) >= 2 && body[0] == '{' {
		inner := bytes.TrimSpace(body[1 : len(body)-1])
		dst = append(dst, '{')
		dst = append(dst, inner...)
		if ref != nil {
			if len(inner) > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `"receipt":`...)
			dst = appendRef(dst, ref)
		}
		dst = append(dst, '}')
	} else {
		dst = append(dst, body...)
	}
	dst = append(dst, `,"id":`...)
	dst = appendID(dst, id)
	return append(dst, "}\n"...)
}

func appendRef(dst []byte, ref *ReceiptRef) []byte {
	dst = append(dst, `{"receipt_id":`...)
	dst = strconv.AppendQuote(dst, ref.ReceiptID)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendQuote(dst, ref.Status)
	if ref.LeafHash != "" {
		dst = append(dst, `,"leaf_hash":`...)
		dst = strconv.AppendQuote(dst, ref.LeafHash)
	}
	return append(dst, '}')
}

func appendID(dst []byte, id json.RawMessage) []byte {
	if len(id) == 0 {
		return append(dst, nullID...)
	}
	return append(dst, id...)
}

// appendError renders an error response line (with its trailing newline).
func appendError(dst []byte, id json.RawMessage, e *rpcError, ref *ReceiptRef) []byte {
	d := e.data
	d.Receipt = ref
	data, err := json.Marshal(d)
	if err != nil { // cannot happen: plain fields only
		data = []byte(`{"code":"INTERNAL","receipt":null}`)
	}
	msg, _ := json.Marshal(e.message)
	dst = append(dst, `{"jsonrpc":"2.0","error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.code), 10)
	dst = append(dst, `,"message":`...)
	dst = append(dst, msg...)
	dst = append(dst, `,"data":`...)
	dst = append(dst, data...)
	dst = append(dst, `},"id":`...)
	dst = appendID(dst, id)
	return append(dst, "}\n"...)
}
