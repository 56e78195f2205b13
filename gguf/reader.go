package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"unsafe"
)

// Limits bounds what Read accepts, so that a malformed or hostile file cannot make it
// allocate without bound. Zero fields take the values of DefaultLimits.
type Limits struct {
	MaxStringLen  uint64 // bytes in one string (key, value, tensor name)
	MaxArrayLen   uint64 // elements in one metadata array
	MaxArrayDepth int    // nesting depth of arrays (1 = no arrays of arrays)
	MaxKVs        uint64 // metadata entries
	MaxTensors    uint64 // tensor infos
}

// DefaultLimits are generous for real models (vocabularies of a few hundred thousand tokens,
// chat templates of some kilobytes, thousands of tensors) and still bound memory.
var DefaultLimits = Limits{
	MaxStringLen:  64 << 20,
	MaxArrayLen:   1 << 26,
	MaxArrayDepth: 4,
	MaxKVs:        1 << 16,
	MaxTensors:    1 << 20,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxStringLen != 0 {
		d.MaxStringLen = l.MaxStringLen
	}
	if l.MaxArrayLen != 0 {
		d.MaxArrayLen = l.MaxArrayLen
	}
	if l.MaxArrayDepth != 0 {
		d.MaxArrayDepth = l.MaxArrayDepth
	}
	if l.MaxKVs != 0 {
		d.MaxKVs = l.MaxKVs
	}
	if l.MaxTensors != 0 {
		d.MaxTensors = l.MaxTensors
	}
	return d
}

// File is a parsed GGUF file: its metadata and tensor infos, and access to tensor data.
type File struct {
	Version   uint32
	KV        []KV         // metadata in file order
	Tensors   []TensorInfo // tensor infos in file order
	Alignment uint64       // data alignment (general.alignment or DefaultAlignment)
	// DataOffset is the file offset of the data section; tensor offsets are relative to it.
	DataOffset int64
	// Size is the size of the file in bytes.
	Size int64

	r       io.ReaderAt
	data    []byte      // the whole file when mapped (Open), else nil
	info    os.FileInfo // from Open
	closer  io.Closer
	kvIndex map[string]int
	tIndex  map[string]int
}

// OpenOptions configure OpenWith.
type OpenOptions struct {
	// Limits bound what the parser accepts; nil means DefaultLimits.
	Limits *Limits
	// NoMap reads tensor data through the file on demand instead of mapping it.
	NoMap bool
	// Prefault maps every page of the file at once (Linux MAP_POPULATE): cheaper than faulting
	// pages in one by one for a caller that reads the whole file (a model loader), wasteful
	// for one that reads only the metadata of a large file.
	Prefault bool
}

// errNoMap reports that the file cannot be mapped here; Open then reads through the file.
var errNoMap = errors.New("gguf: memory mapping not available")

// Open opens and parses the GGUF file at path with DefaultLimits. Where the platform allows
// (unix), the file is memory-mapped read-only: nothing is copied, tensor data comes from the
// page cache when touched, and [File.TensorBytes] returns slices of the mapping. Otherwise (or
// when mapping fails) tensor data stays on disk and is read on demand. Call Close when done.
func Open(path string) (*File, error) { return OpenWith(path, OpenOptions{}) }

// OpenWith is Open with options.
func OpenWith(path string, opts OpenOptions) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("gguf: %w", err)
	}
	var (
		data  []byte
		unmap func() error
	)
	if !opts.NoMap {
		data, unmap, err = mapFile(fh, st.Size(), opts.Prefault)
		if err != nil {
			data, unmap = nil, nil // fall back to reading through the file
		}
	}
	var r io.ReaderAt = fh
	if data != nil {
		r = bytes.NewReader(data)
	}
	f, err := Read(r, st.Size(), opts.Limits)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.info = st
	if data != nil {
		// The mapping outlives the descriptor.
		fh.Close()
		f.data = data
		f.closer = closerFunc(unmap)
	} else {
		f.closer = fh
	}
	return f, nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// Close closes the underlying file if the File came from Open, and unmaps it if it was
// mapped: slices returned by TensorBytes and Float32Data that alias the mapping must not be
// used afterwards. Close is idempotent.
func (f *File) Close() error {
	c := f.closer
	f.closer, f.data, f.r = nil, nil, nil
	if c != nil {
		return c.Close()
	}
	return nil
}

// Mapped reports whether the file is memory-mapped (opened by Open on a platform that maps),
// so that TensorBytes and Float32Data alias the mapping instead of copying.
func (f *File) Mapped() bool { return f.data != nil }

// Bytes returns the whole mapped file (read-only: writing to it faults), or nil when the file
// is not mapped.
func (f *File) Bytes() []byte { return f.data }

// ReadAt reads bytes of the file (any part: header or data) at off, so that a File is an
// io.ReaderAt over the file it was read from.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.r == nil {
		return 0, errors.New("gguf: file has no data reader")
	}
	return f.r.ReadAt(p, off)
}

// Stat returns the file information of the file opened by Open, taken from the open
// descriptor (so it describes the bytes that were parsed), or nil for a File from Read.
func (f *File) Stat() os.FileInfo { return f.info }

// Read parses a GGUF file of the given size from r. A nil lim means DefaultLimits. The
// returned File keeps r for reading tensor data.
func Read(r io.ReaderAt, size int64, lim *Limits) (*File, error) {
	l := DefaultLimits
	if lim != nil {
		l = lim.withDefaults()
	}
	if size < 0 {
		return nil, fmt.Errorf("gguf: negative file size %d", size)
	}
	p := &parser{br: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16), size: size, lim: l}
	f, err := p.parse()
	if err != nil {
		return nil, err
	}
	f.r = r
	f.Size = size
	return f, nil
}

// parser reads the header sequentially and knows its position, for error offsets.
type parser struct {
	br   *bufio.Reader
	off  int64
	size int64
	lim  Limits
	buf  [8]byte
}

func (p *parser) errf(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) limitf(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...), Limit: true}
}

func (p *parser) remaining() uint64 { return uint64(p.size - p.off) }

func (p *parser) read(n int) ([]byte, error) {
	b := p.buf[:n]
	if _, err := io.ReadFull(p.br, b); err != nil {
		return nil, p.errf(p.off, "unexpected end of file")
	}
	p.off += int64(n)
	return b, nil
}

func (p *parser) u8() (uint8, error) {
	b, err := p.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (p *parser) u16() (uint16, error) {
	b, err := p.read(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (p *parser) u32() (uint32, error) {
	b, err := p.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) u64() (uint64, error) {
	b, err := p.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a string. what names it in errors ("key", "tensor name"); for a metadata value it
// is "" and key names the key (formatted only when there is an error: a vocabulary holds
// tens of thousands of strings).
func (p *parser) str(what, key string) (string, error) {
	at := p.off
	n, err := p.u64()
	if err != nil {
		return "", err
	}
	if n > p.lim.MaxStringLen {
		return "", p.limitf(at, "%s: string length %d exceeds limit %d", strWhat(what, key), n, p.lim.MaxStringLen)
	}
	if n > p.remaining() {
		return "", p.errf(at, "%s: string length %d extends past end of file", strWhat(what, key), n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.br, b); err != nil {
		return "", p.errf(p.off, "unexpected end of file")
	}
	p.off += int64(n)
	return string(b), nil
}

func strWhat(what, key string) string {
	if what == "" {
		return "key " + strconv.Quote(key)
	}
	return what
}

func (p *parser) parse() (*File, error) {
	b, err := p.read(4)
	if err != nil {
		return nil, err
	}
	if string(b) != Magic {
		return nil, p.errf(0, "bad magic %q, want %q", b, Magic)
	}
	version, err := p.u32()
	if err != nil {
		return nil, err
	}
	if version != Version {
		return nil, p.errf(4, "unsupported version %d, want %d", version, Version)
	}
	nTensors, err := p.u64()
	if err != nil {
		return nil, err
	}
	if nTensors > p.lim.MaxTensors {
		return nil, p.limitf(8, "tensor count %d exceeds limit %d", nTensors, p.lim.MaxTensors)
	}
	nKV, err := p.u64()
	if err != nil {
		return nil, err
	}
	if nKV > p.lim.MaxKVs {
		return nil, p.limitf(16, "metadata count %d exceeds limit %d", nKV, p.lim.MaxKVs)
	}
	// Each KV takes at least 8+4+1 bytes and each tensor info at least 8+4+4+8.
	if nKV > p.remaining()/13 || nTensors > p.remaining()/24 || nKV*13+nTensors*24 > p.remaining() {
		return nil, p.errf(8, "%d keys and %d tensors cannot fit in %d bytes", nKV, nTensors, p.size)
	}
	f := &File{Version: version, Alignment: DefaultAlignment,
		kvIndex: make(map[string]int, nKV), tIndex: make(map[string]int, nTensors)}
	f.KV = make([]KV, 0, nKV)
	for i := uint64(0); i < nKV; i++ {
		at := p.off
		key, err := p.str("key", "")
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, p.errf(at, "duplicate key %q", key)
		}
		typ, err := p.u32()
		if err != nil {
			return nil, err
		}
		v, err := p.value(key, ValueType(typ), 0)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}
	if i, ok := f.kvIndex["general.alignment"]; ok {
		a, ok := f.KV[i].Value.(uint32)
		if !ok {
			return nil, p.errf(0, "general.alignment has type %T, want uint32", f.KV[i].Value)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, p.errf(0, "general.alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := uint64(0); i < nTensors; i++ {
		at := p.off
		ti, err := p.tensorInfo(f.Alignment)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[ti.Name]; dup {
			return nil, p.errf(at, "duplicate tensor name %q", ti.Name)
		}
		f.tIndex[ti.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}

	data := alignUp(uint64(p.off), f.Alignment)
	if nTensors > 0 && data > uint64(p.size) {
		return nil, p.errf(p.off, "data section at %d starts past end of file (%d bytes)", data, p.size)
	}
	f.DataOffset = int64(data)
	avail := uint64(0)
	if data <= uint64(p.size) {
		avail = uint64(p.size) - data
	}
	for _, ti := range f.Tensors {
		sz := ti.Size()
		if ti.Offset > avail || sz > avail-ti.Offset {
			return nil, &FormatError{Offset: f.DataOffset + int64(min(ti.Offset, avail)),
				Msg: fmt.Sprintf("tensor %q extends past end of file (data ends at %d, tensor at %d+%d)",
					ti.Name, p.size, uint64(f.DataOffset)+ti.Offset, sz)}
		}
	}
	return f, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

func (p *parser) tensorInfo(alignment uint64) (TensorInfo, error) {
	at := p.off
	name, err := p.str("tensor name", "")
	if err != nil {
		return TensorInfo{}, err
	}
	nDims, err := p.u32()
	if err != nil {
		return TensorInfo{}, err
	}
	if nDims > MaxDims {
		return TensorInfo{}, p.errf(at, "tensor %q has %d dimensions, at most %d allowed", name, nDims, MaxDims)
	}
	ti := TensorInfo{Name: name, Shape: make([]uint64, nDims)}
	n := uint64(1)
	for d := range ti.Shape {
		ne, err := p.u64()
		if err != nil {
			return TensorInfo{}, err
		}
		if ne > math.MaxInt64 {
			return TensorInfo{}, p.errf(at, "tensor %q: dimension %d is %d", name, d, ne)
		}
		hi, lo := bits.Mul64(n, ne)
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, p.errf(at, "tensor %q: element count overflows", name)
		}
		n = lo
		ti.Shape[d] = ne
	}
	typ, err := p.u32()
	if err != nil {
		return TensorInfo{}, err
	}
	ti.Type = TensorType(typ)
	tr, ok := traits[ti.Type]
	if !ok {
		return TensorInfo{}, p.errf(at, "tensor %q: unknown tensor type %d", name, typ)
	}
	if nDims == 0 && tr.blockSize != 1 {
		return TensorInfo{}, p.errf(at, "tensor %q: a scalar cannot have the block type %s", name, tr.name)
	}
	if nDims > 0 && ti.Shape[0]%uint64(tr.blockSize) != 0 {
		return TensorInfo{}, p.errf(at, "tensor %q: row length %d is not a multiple of the %s block size %d",
			name, ti.Shape[0], tr.name, tr.blockSize)
	}
	if n/uint64(tr.blockSize) > math.MaxInt64/uint64(tr.typeSize) {
		return TensorInfo{}, p.errf(at, "tensor %q: byte size overflows", name)
	}
	ti.Offset, err = p.u64()
	if err != nil {
		return TensorInfo{}, err
	}
	if ti.Offset%alignment != 0 {
		return TensorInfo{}, p.errf(at, "tensor %q: offset %d is not a multiple of the alignment %d", name, ti.Offset, alignment)
	}
	return ti, nil
}

// value reads one value of type typ; depth counts enclosing arrays.
func (p *parser) value(key string, typ ValueType, depth int) (any, error) {
	at := p.off
	switch typ {
	case TypeUint8:
		return p.u8()
	case TypeInt8:
		v, err := p.u8()
		return int8(v), err
	case TypeUint16:
		return p.u16()
	case TypeInt16:
		v, err := p.u16()
		return int16(v), err
	case TypeUint32:
		return p.u32()
	case TypeInt32:
		v, err := p.u32()
		return int32(v), err
	case TypeFloat32:
		v, err := p.u32()
		return math.Float32frombits(v), err
	case TypeBool:
		v, err := p.u8()
		if err != nil {
			return nil, err
		}
		if v > 1 {
			return nil, p.errf(at, "key %q: bool value %d", key, v)
		}
		return v == 1, nil
	case TypeString:
		return p.str("", key)
	case TypeUint64:
		return p.u64()
	case TypeInt64:
		v, err := p.u64()
		return int64(v), err
	case TypeFloat64:
		v, err := p.u64()
		return math.Float64frombits(v), err
	case TypeArray:
		return p.array(key, depth+1)
	}
	return nil, p.errf(at-4, "key %q: unknown value type %d", key, uint32(typ))
}

func (p *parser) array(key string, depth int) (any, error) {
	at := p.off
	if depth > p.lim.MaxArrayDepth {
		return nil, p.limitf(at, "key %q: arrays nested deeper than %d", key, p.lim.MaxArrayDepth)
	}
	et, err := p.u32()
	if err != nil {
		return nil, err
	}
	elem := ValueType(et)
	n, err := p.u64()
	if err != nil {
		return nil, err
	}
	if n > p.lim.MaxArrayLen {
		return nil, p.limitf(at, "key %q: array length %d exceeds limit %d", key, n, p.lim.MaxArrayLen)
	}
	minSize := uint64(elem.size())
	switch elem {
	case TypeString, TypeArray:
		minSize = 8
	}
	if minSize == 0 {
		return nil, p.errf(at, "key %q: unknown array element type %d", key, et)
	}
	if n > p.remaining()/minSize {
		return nil, p.errf(at, "key %q: array of %d %s extends past end of file", key, n, elem)
	}
	switch elem {
	case TypeString:
		vs := make([]string, n)
		for i := range vs {
			if vs[i], err = p.str("", key); err != nil {
				return nil, err
			}
		}
		return Array{Type: elem, Values: vs}, nil
	case TypeArray:
		vs := make([]Array, n)
		for i := range vs {
			v, err := p.array(key, depth+1)
			if err != nil {
				return nil, err
			}
			vs[i] = v.(Array)
		}
		return Array{Type: elem, Values: vs}, nil
	}
	raw := make([]byte, n*minSize)
	if _, err := io.ReadFull(p.br, raw); err != nil {
		return nil, p.errf(p.off, "unexpected end of file")
	}
	p.off += int64(len(raw))
	vals, err := decodeFixed(elem, raw, int(n))
	if err != nil {
		return nil, p.errf(at, "key %q: %v", key, err)
	}
	return Array{Type: elem, Values: vals}, nil
}

// decodeFixed decodes n little-endian values of a fixed-size type.
func decodeFixed(t ValueType, raw []byte, n int) (any, error) {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return raw, nil
	case TypeInt8:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(raw[i])
		}
		return v, nil
	case TypeBool:
		v := make([]bool, n)
		for i := range v {
			if raw[i] > 1 {
				return nil, fmt.Errorf("bool value %d", raw[i])
			}
			v[i] = raw[i] == 1
		}
		return v, nil
	case TypeUint16:
		v := make([]uint16, n)
		for i := range v {
			v[i] = le.Uint16(raw[2*i:])
		}
		return v, nil
	case TypeInt16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(le.Uint16(raw[2*i:]))
		}
		return v, nil
	case TypeUint32:
		v := make([]uint32, n)
		for i := range v {
			v[i] = le.Uint32(raw[4*i:])
		}
		return v, nil
	case TypeInt32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(le.Uint32(raw[4*i:]))
		}
		return v, nil
	case TypeFloat32:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return v, nil
	case TypeUint64:
		v := make([]uint64, n)
		for i := range v {
			v[i] = le.Uint64(raw[8*i:])
		}
		return v, nil
	case TypeInt64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(le.Uint64(raw[8*i:]))
		}
		return v, nil
	case TypeFloat64:
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown value type %d", uint32(t))
}

// Value returns the metadata value of key and whether it exists.
func (f *File) Value(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.KV[i].Value, true
}

func (f *File) lookup(key string) (any, error) {
	v, ok := f.Value(key)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrKeyNotFound, key)
	}
	return v, nil
}

func typeError(key string, v any, want string) error {
	t, _ := valueTypeOf(v)
	return &TypeError{Key: key, Have: t, Want: want}
}

// String returns the string value of key.
func (f *File) String(key string) (string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", typeError(key, v, "string")
	}
	return s, nil
}

// Bool returns the bool value of key.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.lookup(key)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, typeError(key, v, "bool")
	}
	return b, nil
}

// asInt64 converts any integer value to int64 (uint64 values above MaxInt64 fail).
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// Uint32 returns the value of key, which must be an integer in the range of uint32.
func (f *File) Uint32(key string) (uint32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	i, ok := asInt64(v)
	if !ok || i < 0 || i > math.MaxUint32 {
		return 0, typeError(key, v, "uint32")
	}
	return uint32(i), nil
}

// Int64 returns the value of key, which must be an integer in the range of int64.
func (f *File) Int64(key string) (int64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	i, ok := asInt64(v)
	if !ok {
		return 0, typeError(key, v, "int64")
	}
	return i, nil
}

// Float32 returns the value of key, which must be a float32 (float64 values are rounded).
func (f *File) Float32(key string) (float32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float32:
		return x, nil
	case float64:
		return float32(x), nil
	}
	return 0, typeError(key, v, "float32")
}

// Array returns the array value of key.
func (f *File) Array(key string) (Array, error) {
	v, err := f.lookup(key)
	if err != nil {
		return Array{}, err
	}
	a, ok := v.(Array)
	if !ok {
		return Array{}, typeError(key, v, "array")
	}
	return a, nil
}

// Strings returns the string-array value of key. The slice is shared with the File.
func (f *File) Strings(key string) ([]string, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]string)
	if !ok {
		return nil, &TypeError{Key: key, Have: TypeArray, Want: "array of string"}
	}
	return s, nil
}

// Int32s returns the int32-array value of key. The slice is shared with the File.
func (f *File) Int32s(key string) ([]int32, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]int32)
	if !ok {
		return nil, &TypeError{Key: key, Have: TypeArray, Want: "array of int32"}
	}
	return s, nil
}

// Float32s returns the float32-array value of key. The slice is shared with the File.
func (f *File) Float32s(key string) ([]float32, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]float32)
	if !ok {
		return nil, &TypeError{Key: key, Have: TypeArray, Want: "array of float32"}
	}
	return s, nil
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, error) {
	i, ok := f.tIndex[name]
	if !ok {
		return TensorInfo{}, fmt.Errorf("%w: %q", ErrTensorNotFound, name)
	}
	return f.Tensors[i], nil
}

// TensorReader returns a reader over the raw bytes of the named tensor.
func (f *File) TensorReader(name string) (*io.SectionReader, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	if f.r == nil {
		return nil, errors.New("gguf: file has no data reader")
	}
	return io.NewSectionReader(f.r, f.DataOffset+int64(ti.Offset), int64(ti.Size())), nil
}

// TensorData reads the raw bytes of the named tensor into a new slice.
func (f *File) TensorData(name string) ([]byte, error) {
	sr, err := f.TensorReader(name)
	if err != nil {
		return nil, err
	}
	b := make([]byte, sr.Size())
	if _, err := io.ReadFull(sr, b); err != nil {
		return nil, fmt.Errorf("gguf: read tensor %q: %w", name, err)
	}
	return b, nil
}

// TensorBytes returns the raw bytes of the named tensor. When the file is mapped the slice
// aliases the mapping (no copy): it must not be written to, and must not be used after Close.
// Otherwise it is a new slice, as from TensorData.
func (f *File) TensorBytes(name string) ([]byte, error) {
	if f.data == nil {
		return f.TensorData(name)
	}
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	off := f.DataOffset + int64(ti.Offset)
	return f.data[off : off+int64(ti.Size()) : off+int64(ti.Size())], nil
}

// Float32Data returns the values of the named tensor, which must be of type F32 (else an
// error wrapping ErrUnsupportedType). When the file is mapped, the host is little-endian and
// the data is 4-byte aligned (GGUF aligns tensors to 32 bytes), the slice aliases the mapping
// (no copy; read-only; valid until Close) and aliased reports true; otherwise it is a decoded
// copy.
func (f *File) Float32Data(name string) (vals []float32, aliased bool, err error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, false, err
	}
	if ti.Type != TypeF32 {
		return nil, false, fmt.Errorf("%w %s (tensor %q is not F32)", ErrUnsupportedType, ti.Type, name)
	}
	n := int(ti.NumElements())
	if f.data != nil && nativeLittleEndian && n > 0 {
		b, err := f.TensorBytes(name)
		if err != nil {
			return nil, false, err
		}
		if uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
			return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), true, nil
		}
	}
	vals, err = f.Dequantize(name)
	return vals, false, err
}

// nativeLittleEndian reports whether float32 values in memory have GGUF's byte order.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Dequantize reads the named tensor and converts it to float32, in storage order (row after
// row, Shape[0] values per row).
func (f *File) Dequantize(name string) ([]float32, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	if !CanDequantize(ti.Type) {
		return nil, fmt.Errorf("%w %s (tensor %q)", ErrUnsupportedType, ti.Type, name)
	}
	data, err := f.TensorBytes(name)
	if err != nil {
		return nil, err
	}
	out := make([]float32, ti.NumElements())
	if err := Dequantize(ti.Type, data, out); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return out, nil
}
