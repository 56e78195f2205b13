// Package gguf reads and writes GGUF version 3 files, the container format of llama.cpp and
// ggml: a header, typed key-value metadata, tensor descriptions, and the tensor data.
//
// # Reading
//
// [Open] (or [Read] over any [io.ReaderAt]) parses the header, all metadata and all tensor
// infos, and checks them against [Limits] before allocating: string and array lengths,
// the number of keys and tensors, tensor ranks, and that every tensor lies inside the file.
// Tensor data is not read until asked for: [File.TensorReader] returns an [io.SectionReader]
// over the bytes of one tensor, [File.TensorData] reads them, and [File.Dequantize] decodes them
// to float32. A malformed file gives an error that names the part and the byte offset, for
// example (the Q8_0 tiny model cut one byte short)
//
//	open model.gguf: gguf: tensor "blk.1.ffn_down.weight" extends past end of file (data ends at 5165503, tensor at 5156800+8704) (at byte 5156800)
//
// Callers that branch on the kind of failure use [ErrFormat] (any structural problem),
// [ErrLimit] (a configured limit was exceeded), [ErrKeyNotFound], [ErrUnsupportedType] and
// [*TypeError] with [errors.Is] / [errors.As].
//
// # Vocabulary
//
// Shape: a tensor's Shape is given in GGUF (= ggml) order: Shape[0] is ne[0], the number of
// elements in a row, which is the fastest-varying (contiguous) dimension. A weight matrix with
// Shape [64, 32000] therefore has 32000 rows of 64 values; in row-major (numpy) terms it is the
// (32000, 64) array. This is the reverse of numpy's shape order.
//
// Type: the ggml element type ([TensorType]). Quantised types store blocks of BlockSize
// elements in TypeSize bytes; a row (Shape[0] elements) must be a whole number of blocks.
//
// Offset: a tensor's [TensorInfo.Offset] is relative to the start of the data section
// ([File.DataOffset]), which begins at the first multiple of the alignment after the tensor
// infos. The alignment is the metadata key general.alignment (default 32).
//
// # Metadata values
//
// Metadata values are held as Go values whose dynamic type fixes the GGUF value type:
// uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64, bool, string,
// and [Array] for arrays (whose Values field is a typed slice such as []string or []int32, or
// []Array for nested arrays). The typed accessors ([File.String], [File.Uint32],
// [File.Strings], ...) convert between integer types when the value fits.
//
// # Writing
//
// [Write] produces a GGUF v3 file from metadata and tensors, laying out tensor data in the
// given order with the alignment padding that llama.cpp's gguf-py writes, so reading a file
// and writing it back reproduces it byte for byte.
//
// # Dequantisation
//
// [Dequantize] converts F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K data to float32 following
// ggml's reference (scalar) dequantisation routines; each multiplication is rounded to float32
// on its own (no fused multiply-add), which is what the scalar C code does without contraction.
// Other tensor types can be read as bytes but not dequantised ([ErrUnsupportedType]).
//
// # Mapping
//
// [Open] memory-maps the file read-only on unix systems (falling back to reading through the
// file elsewhere, or when mapping fails; [OpenWith] can ask for either): nothing is copied at
// open, [File.TensorBytes] returns slices of the mapping and [File.Float32Data] views F32
// data in place on little-endian hosts. Such slices must not be written to (the pages are
// read-only) and die with [File.Close]; [File.TensorData] and [File.Dequantize] always return
// fresh slices. A mapped file that another process truncates while it is mapped can fault
// (SIGBUS) on access, as with any mapping (llama.cpp's included). [Read] over any
// [io.ReaderAt] maps nothing. A [File] is safe for concurrent use by several goroutines once
// opened (all its methods only read), except Close.
package gguf
