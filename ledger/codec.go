package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The canonical encoding used for transactions and state: fixed-width big-endian integers,
// byte strings as a u32 length followed by the bytes, lists as a u32 count followed by the
// items. Every value has exactly one encoding, so equal values give equal bytes and equal
// hashes on every node.

// encoder appends canonical fields to b.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) fixed(v []byte) { e.b = append(e.b, v...) }
func (e *encoder) bytes(v []byte) { e.u32(uint32(len(v))); e.b = append(e.b, v...) }
func (e *encoder) str(v string)   { e.u32(uint32(len(v))); e.b = append(e.b, v...) }
func (e *encoder) boolean(v bool) { e.u8(boolByte(v)) }
func (e *encoder) strs(v []string) {
	e.u32(uint32(len(v)))
	for _, s := range v {
		e.str(s)
	}
}
func (e *encoder) models(v []Model) {
	e.u32(uint32(len(v)))
	for _, m := range v {
		e.model(m)
	}
}
func (e *encoder) model(m Model) { e.str(m.Name); e.fixed(m.Digest[:]) }
func (e *encoder) keys(v []PubKey) {
	e.u32(uint32(len(v)))
	for _, k := range v {
		e.fixed(k[:])
	}
}

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// errShort and friends are wrapped into ErrMalformedTx or ErrMalformedState by the callers.
var (
	errShort    = errors.New("unexpected end of input")
	errTrailing = errors.New("trailing bytes")
)

// decoder reads canonical fields from b. The first error sticks: later reads return zero
// values, and err reports the first problem. Lengths are checked against the remaining input
// and a per-field maximum before anything is allocated.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail(errShort)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) boolean(field string) bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(fmt.Errorf("%s: boolean not 0 or 1", field))
	return false
}

func (d *decoder) fixed32() (v [32]byte) {
	copy(v[:], d.take(32))
	return v
}

// length reads a u32 length and checks it against max and the remaining input.
func (d *decoder) length(field string, max int) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.fail(fmt.Errorf("%s: length %d over limit %d", field, n, max))
		return 0
	}
	if int(n) > len(d.b) {
		d.fail(fmt.Errorf("%s: length %d: %w", field, n, errShort))
		return 0
	}
	return int(n)
}

// bytes returns a copy of a length-prefixed byte string of at most max bytes.
func (d *decoder) bytes(field string, max int) []byte {
	n := d.length(field, max)
	v := d.take(n)
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) str(field string, max int) string {
	n := d.length(field, max)
	return string(d.take(n))
}

// count reads a list length and checks it against max and against the remaining input, given
// that every item takes at least minItem bytes.
func (d *decoder) count(field string, max, minItem int) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.fail(fmt.Errorf("%s: %d items over limit %d", field, n, max))
		return 0
	}
	if uint64(n)*uint64(minItem) > uint64(len(d.b)) {
		d.fail(fmt.Errorf("%s: %d items: %w", field, n, errShort))
		return 0
	}
	return int(n)
}

func (d *decoder) strs(field string, max, maxLen int) []string {
	n := d.count(field, max, 4)
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str(field, maxLen)
	}
	return v
}

func (d *decoder) model(field string) Model {
	return Model{Name: d.str(field, MaxNameBytes), Digest: d.fixed32()}
}

func (d *decoder) models(field string, max int) []Model {
	n := d.count(field, max, 36)
	if n == 0 {
		return nil
	}
	v := make([]Model, n)
	for i := range v {
		v[i] = d.model(field)
	}
	return v
}

func (d *decoder) keys(field string, max int) []PubKey {
	n := d.count(field, max, 32)
	if n == 0 {
		return nil
	}
	v := make([]PubKey, n)
	for i := range v {
		v[i] = d.fixed32()
	}
	return v
}

// done reports the first error, or errTrailing if input is left over.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d", errTrailing, len(d.b))
	}
	return d.err
}
