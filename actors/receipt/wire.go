package receipt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Message domains of the two Ed25519 signature forms.
const (
	BatchDomain  = "bizra-receipt-batch-v1:"
	SingleDomain = "bizra-receipt-single-v1:"
)

// BatchMessage returns the bytes a batch signature signs:
// "bizra-receipt-batch-v1:" ‖ seq (8 bytes big-endian) ‖ root (32) ‖ prev_root (32).
func BatchMessage(seq uint64, root, prevRoot [32]byte) []byte {
	msg := make([]byte, 0, len(BatchDomain)+8+64)
	msg = append(msg, BatchDomain...)
	msg = binary.BigEndian.AppendUint64(msg, seq)
	msg = append(msg, root[:]...)
	return append(msg, prevRoot[:]...)
}

// SingleMessage returns the bytes a single-mode signature signs:
// "bizra-receipt-single-v1:" ‖ leaf (32).
func SingleMessage(leaf [32]byte) []byte {
	msg := make([]byte, 0, len(SingleDomain)+32)
	msg = append(msg, SingleDomain...)
	return append(msg, leaf[:]...)
}

// Seal is the batch seal carried by a sealed receipt.
type Seal struct {
	BatchSeq  uint64   `json:"batch_seq"`
	Size      uint64   `json:"size"`
	Index     uint64   `json:"index"`
	Root      string   `json:"root"`
	PrevRoot  string   `json:"prev_root"`
	Proof     []string `json:"proof"`
	Alg       string   `json:"alg"`
	KeyID     string   `json:"key_id"`
	PublicKey string   `json:"public_key"`
	Signature string   `json:"signature"`
}

// Signature is the per-receipt signature of single mode and of legacy HMAC receipts.
type Signature struct {
	Alg       string `json:"alg"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	Sig       string `json:"sig"`
}

// appendJSONString appends a string known to need no escaping (hex, ids, alg names).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// canonicalSeal writes the seal in RFC 8785 form (members sorted, integers plain).
func canonicalSeal(dst []byte, s *Seal) []byte {
	dst = append(dst, `{"alg":`...)
	dst = appendJSONString(dst, s.Alg)
	dst = append(dst, `,"batch_seq":`...)
	dst = strconv.AppendUint(dst, s.BatchSeq, 10)
	dst = append(dst, `,"index":`...)
	dst = strconv.AppendUint(dst, s.Index, 10)
	dst = append(dst, `,"key_id":`...)
	dst = appendJSONString(dst, s.KeyID)
	dst = append(dst, `,"prev_root":`...)
	dst = appendJSONString(dst, s.PrevRoot)
	dst = append(dst, `,"proof":[`...)
	for i, p := range s.Proof {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p)
	}
	dst = append(dst, `],"public_key":`...)
	dst = appendJSONString(dst, s.PublicKey)
	dst = append(dst, `,"root":`...)
	dst = appendJSONString(dst, s.Root)
	dst = append(dst, `,"signature":`...)
	dst = appendJSONString(dst, s.Signature)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendUint(dst, s.Size, 10)
	return append(dst, '}')
}

func canonicalSignature(dst []byte, s *Signature) []byte {
	dst = append(dst, `{"alg":`...)
	dst = appendJSONString(dst, s.Alg)
	dst = append(dst, `,"key_id":`...)
	dst = appendJSONString(dst, s.KeyID)
	dst = append(dst, `,"public_key":`...)
	dst = appendJSONString(dst, s.PublicKey)
	dst = append(dst, `,"sig":`...)
	dst = appendJSONString(dst, s.Sig)
	return append(dst, '}')
}

var (
	markMethod = []byte(`,"method":`)
	markSNR    = []byte(`,"snr":`)
)

// assemble splices leaf_hash and the seal or signature member into the canonical body,
// keeping RFC 8785 member order: leaf_hash sorts between kind and method, seal and
// signature between receipt_id and snr. The members before method are numbers, null,
// booleans and the kind, so the first `,"method":` is the top-level one; the members
// after snr are status, timestamp and version (fixed forms), so the last `,"snr":` is.
func assemble(dst, body []byte, leafHex string, tailKey string, tail []byte) ([]byte, error) {
	i := bytes.Index(body, markMethod)
	j := bytes.LastIndex(body, markSNR)
	if i < 0 || j < i {
		return nil, fmt.Errorf("BUG: body is not a canonical receipt body")
	}
	dst = append(dst, body[:i]...)
	dst = append(dst, `,"leaf_hash":`...)
	dst = appendJSONString(dst, leafHex)
	dst = append(dst, body[i:j]...)
	dst = append(dst, ',', '"')
	dst = append(dst, tailKey...)
	dst = append(dst, '"', ':')
	dst = append(dst, tail...)
	return append(dst, body[j:]...), nil
}

func hexOf(b [32]byte) string { return hex.EncodeToString(b[:]) }
