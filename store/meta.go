package store

import (
	"encoding/binary"
	"fmt"
)

// MaxMetaString is the longest [ArtifactMeta.MediaType] or [ArtifactMeta.TaskID], in bytes.
const MaxMetaString = 1024

// ArtifactMeta describes an artifact. It is local bookkeeping: it is not part of the digest,
// and it holds no wall-clock time.
type ArtifactMeta struct {
	// MediaType is the artifact's IANA-style media type, e.g. "image/png"; may be empty.
	MediaType string
	// TaskID names the ledger task that produced the artifact; may be empty.
	TaskID string
	// Height is the block height at which the artifact was made (0 if unknown).
	Height int64
}

// ArtifactInfo is what [Store.Stat] and [Store.Artifacts] report about a stored artifact.
type ArtifactInfo struct {
	Digest Digest
	Size   int64 // length of the artifact in bytes
	Meta   ArtifactMeta
}

func (m ArtifactMeta) validate() error {
	if len(m.MediaType) > MaxMetaString {
		return fmt.Errorf("store: media type is %d bytes, limit %d", len(m.MediaType), MaxMetaString)
	}
	if len(m.TaskID) > MaxMetaString {
		return fmt.Errorf("store: task id is %d bytes, limit %d", len(m.TaskID), MaxMetaString)
	}
	return nil
}

// record is the value kept under a digest in the meta bucket.
//
// Encoding, version 1 (all integers big-endian):
//
//	[0]      version = 1
//	[1:9]    size in bytes (uint64)
//	[9:13]   chunk size in bytes (uint32)
//	[13:21]  height (int64 as uint64)
//	[21:23]  len(media type) (uint16), then the bytes
//	[..+2]   len(task id) (uint16), then the bytes
type record struct {
	size      int64
	chunkSize int64
	meta      ArtifactMeta
}

const (
	recordVersion    = 1
	recordHeaderSize = 21
)

// chunks returns how many chunks hold the record's bytes.
func (r record) chunks() int64 {
	return (r.size + r.chunkSize - 1) / r.chunkSize
}

func (r record) info(d Digest) ArtifactInfo {
	return ArtifactInfo{Digest: d, Size: r.size, Meta: r.meta}
}

func encodeRecord(r record) []byte {
	b := make([]byte, 0, recordHeaderSize+4+len(r.meta.MediaType)+len(r.meta.TaskID))
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(r.size))
	b = binary.BigEndian.AppendUint32(b, uint32(r.chunkSize))
	b = binary.BigEndian.AppendUint64(b, uint64(r.meta.Height))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.meta.MediaType)))
	b = append(b, r.meta.MediaType...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.meta.TaskID)))
	b = append(b, r.meta.TaskID...)
	return b
}

// decodeRecord parses a record read from the file. The file may be damaged, so every length is
// checked before it is used.
func decodeRecord(b []byte) (record, error) {
	if len(b) < recordHeaderSize+2 {
		return record{}, fmt.Errorf("record of %d bytes is too short: %w", len(b), ErrCorrupt)
	}
	if b[0] != recordVersion {
		return record{}, fmt.Errorf("record version %d, want %d: %w", b[0], recordVersion, ErrCorrupt)
	}
	size := binary.BigEndian.Uint64(b[1:9])
	chunk := binary.BigEndian.Uint32(b[9:13])
	height := int64(binary.BigEndian.Uint64(b[13:21]))
	if size > MaxArtifactSizeLimit {
		return record{}, fmt.Errorf("record size %d exceeds %d: %w", size, MaxArtifactSizeLimit, ErrCorrupt)
	}
	if chunk == 0 || chunk > maxChunkSize {
		return record{}, fmt.Errorf("record chunk size %d out of range: %w", chunk, ErrCorrupt)
	}
	rest := b[21:]
	mediaType, rest, err := cutString(rest)
	if err != nil {
		return record{}, err
	}
	taskID, rest, err := cutString(rest)
	if err != nil {
		return record{}, err
	}
	if len(rest) != 0 {
		return record{}, fmt.Errorf("record has %d trailing bytes: %w", len(rest), ErrCorrupt)
	}
	return record{
		size:      int64(size),
		chunkSize: int64(chunk),
		meta:      ArtifactMeta{MediaType: mediaType, TaskID: taskID, Height: height},
	}, nil
}

func cutString(b []byte) (string, []byte, error) {
	if len(b) < 2 {
		return "", nil, fmt.Errorf("record truncated: %w", ErrCorrupt)
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n > MaxMetaString || n > len(b) {
		return "", nil, fmt.Errorf("record string of %d bytes does not fit: %w", n, ErrCorrupt)
	}
	return string(b[:n]), b[n:], nil
}
