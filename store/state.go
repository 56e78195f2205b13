package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// StateEntry is one key/value pair of the node-state section.
type StateEntry struct {
	Key   string
	Value []byte
}

func checkStateKey(key string) error {
	if key == "" || len(key) > MaxStateKey {
		return fmt.Errorf("store: state key of %d bytes, want 1 to %d", len(key), MaxStateKey)
	}
	return nil
}

func checkStateValue(key string, value []byte) error {
	if len(value) > MaxStateValue {
		return fmt.Errorf("store: state %q: value of %d bytes exceeds the limit of %d bytes: %w", key, len(value), MaxStateValue, ErrTooLarge)
	}
	return nil
}

// PutState sets key to value, durably (see the package doc). A nil value is stored as empty.
func (s *Store) PutState(key string, value []byte) error {
	var b StateBatch
	b.Put(key, value)
	return s.WriteState(&b)
}

// State returns a copy of the value under key, or ErrNotFound.
func (s *Store) State(key string) ([]byte, error) {
	if err := checkStateKey(key); err != nil {
		return nil, err
	}
	var value []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketState).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		value = bytes.Clone(v)
		if value == nil {
			value = []byte{}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: state %q: %w", key, err)
	}
	return value, nil
}

// DeleteState removes key. Removing a key that is not set is not an error.
func (s *Store) DeleteState(key string) error {
	var b StateBatch
	b.Delete(key)
	return s.WriteState(&b)
}

// States returns copies of every entry whose key starts with prefix, in ascending byte order of
// keys. An empty prefix returns the whole section.
func (s *Store) States(prefix string) ([]StateEntry, error) {
	var out []StateEntry
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketState).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			out = append(out, StateEntry{Key: string(k), Value: append([]byte{}, v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: states %q: %w", prefix, err)
	}
	return out, nil
}

// StateBatch collects state changes that [Store.WriteState] applies in one transaction. The
// zero value is an empty batch. Operations apply in the order they were added.
type StateBatch struct {
	ops []stateOp
}

type stateOp struct {
	key    string
	value  []byte
	delete bool
}

// Put adds "set key to value" to the batch. The batch keeps a copy of value.
func (b *StateBatch) Put(key string, value []byte) {
	b.ops = append(b.ops, stateOp{key: key, value: append([]byte{}, value...)})
}

// Delete adds "remove key" to the batch.
func (b *StateBatch) Delete(key string) {
	b.ops = append(b.ops, stateOp{key: key, delete: true})
}

// Len returns the number of operations in the batch.
func (b *StateBatch) Len() int { return len(b.ops) }

// WriteState applies the batch atomically: after a crash the file has all of its changes or
// none. An invalid key or an oversized value fails the whole batch before anything is written.
func (s *Store) WriteState(b *StateBatch) error {
	for _, op := range b.ops {
		if err := checkStateKey(op.key); err != nil {
			return err
		}
		if err := checkStateValue(op.key, op.value); err != nil {
			return err
		}
	}
	err := s.update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketState)
		for _, op := range b.ops {
			var err error
			if op.delete {
				err = bk.Delete([]byte(op.key))
			} else {
				err = bk.Put([]byte(op.key), op.value)
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", op.key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write state: %w", err)
	}
	return nil
}
