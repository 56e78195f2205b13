package p2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/genquorum/genquorum/store"
)

// ProtocolID names the artifact protocol on libp2p streams.
const ProtocolID protocol.ID = "/genquorum/artifact/1.0.0"

// Response status bytes.
const (
	statusOK       byte = 0
	statusNotFound byte = 1
	statusTooLarge byte = 2
	statusBusy     byte = 3
	statusError    byte = 4
)

// Errors callers branch on. Fetch wraps them with the peer and digest.
var (
	// ErrNotFound: the peer does not have the artifact.
	ErrNotFound = errors.New("p2p: artifact not found")
	// ErrTooLarge: the artifact exceeds the client's or the server's size limit.
	ErrTooLarge = errors.New("p2p: artifact too large")
	// ErrDigestMismatch: the peer sent bytes that do not hash to the requested digest.
	ErrDigestMismatch = errors.New("p2p: received bytes do not match the digest")
	// ErrBusy: the peer has too many requests in flight; try another.
	ErrBusy = errors.New("p2p: peer busy")
	// ErrRemote: the peer failed to read the artifact for another reason.
	ErrRemote = errors.New("p2p: peer failed to serve the artifact")
	// ErrProtocol: the peer broke the wire protocol (bad status, short or overlong response).
	ErrProtocol = errors.New("p2p: protocol violation")
)

// readRequest reads a request: exactly one digest.
func readRequest(r io.Reader) (store.Digest, error) {
	var d store.Digest
	if _, err := io.ReadFull(r, d[:]); err != nil {
		return store.Digest{}, fmt.Errorf("p2p: read request: %w", err)
	}
	return d, nil
}

// writeResponse writes a status and, for statusOK, the length-prefixed data.
func writeResponse(w io.Writer, status byte, data []byte) error {
	if status != statusOK {
		_, err := w.Write([]byte{status})
		return err
	}
	var hdr [9]byte
	hdr[0] = statusOK
	binary.BigEndian.PutUint64(hdr[1:], uint64(len(data)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// readResponse reads a response of at most maxSize data bytes. r must end (io.EOF) after the
// data: trailing bytes are a protocol violation. The length is checked against maxSize before
// anything is allocated. Errors wrap the sentinels above; transport errors come back as they are.
func readResponse(r io.Reader, maxSize int64) ([]byte, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:1]); err != nil {
		return nil, noEOF(err, "status")
	}
	switch hdr[0] {
	case statusOK:
	case statusNotFound:
		return nil, ErrNotFound
	case statusTooLarge:
		return nil, fmt.Errorf("over the server's limit: %w", ErrTooLarge)
	case statusBusy:
		return nil, ErrBusy
	case statusError:
		return nil, ErrRemote
	default:
		return nil, fmt.Errorf("status %d: %w", hdr[0], ErrProtocol)
	}
	if _, err := io.ReadFull(r, hdr[1:]); err != nil {
		return nil, noEOF(err, "length")
	}
	n := binary.BigEndian.Uint64(hdr[1:])
	if n > uint64(maxSize) {
		return nil, fmt.Errorf("%d bytes over the limit of %d: %w", n, maxSize, ErrTooLarge)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, noEOF(err, fmt.Sprintf("%d-byte body", n))
	}
	var extra [1]byte
	switch _, err := io.ReadFull(r, extra[:]); {
	case err == nil:
		return nil, fmt.Errorf("bytes after the %d-byte body: %w", n, ErrProtocol)
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	return data, nil
}

// noEOF turns an early end of stream into a protocol violation; other errors are transport
// errors and pass through.
func noEOF(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("stream ended inside the %s: %w", what, ErrProtocol)
	}
	return err
}
