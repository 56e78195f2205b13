package ledger

import (
	"encoding/hex"
	"fmt"
)

// Size limits checked before decoding allocates anything.
const (
	// MaxTxBytes bounds a whole transaction, signature included.
	MaxTxBytes = 64 << 10
	// MaxPromptBytes bounds a task's prompt.
	MaxPromptBytes = 32 << 10
	// MaxParamsBytes bounds a task's opaque engine parameters.
	MaxParamsBytes = 8 << 10
	// MaxFingerprintBytes bounds a fingerprint.
	MaxFingerprintBytes = 4 << 10
	// MaxNameBytes bounds names: task kind, model, engine, hardware profile and class.
	MaxNameBytes = 128
	// MaxListItems bounds the engines and models a node lists.
	MaxListItems = 64
	// MaxAddrs and MaxAddrBytes bound the network addresses a node announces.
	MaxAddrs     = 8
	MaxAddrBytes = 256
	// MaxReplicasLimit bounds replicas in any chain's Params.
	MaxReplicasLimit = 255
	// MaxChainIDBytes bounds the chain ID.
	MaxChainIDBytes = 64
)

// PubKey is an ed25519 public key: the identity of an account and of a node.
type PubKey [32]byte

// String returns the key in hex.
func (k PubKey) String() string { return hex.EncodeToString(k[:]) }

// TaskID names a task: TaskIDFor(submitter, nonce of the submitting transaction).
type TaskID [32]byte

// String returns the ID in hex.
func (id TaskID) String() string { return hex.EncodeToString(id[:]) }

// Model names a model by name and content digest (e.g. the SHA-256 of the GGUF file). A node
// is eligible for a task only if it serves the exact Model.
type Model struct {
	Name   string
	Digest [32]byte
}

// String returns "name@digestprefix".
func (m Model) String() string { return fmt.Sprintf("%s@%x", m.Name, m.Digest[:4]) }
