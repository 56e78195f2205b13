package ledger

import "sync"

// SigCache remembers the hashes of transactions whose signatures verified, so that a
// transaction checked once in CheckTx is not verified again in FinalizeBlock. It memoizes a
// pure function of the transaction bytes and chain ID, so using it or not never changes a
// result, only the time taken; it is not part of the state. It holds at most its size entries
// and forgets the oldest first. A nil *SigCache is valid and remembers nothing. Safe for
// concurrent use.
type SigCache struct {
	mu      sync.Mutex
	chainID string
	set     map[[32]byte]struct{}
	ring    [][32]byte
	next    int
}

// NewSigCache returns a cache for chainID holding up to size transaction hashes.
func NewSigCache(chainID string, size int) *SigCache {
	if size < 1 {
		panic("ledger: NewSigCache: size < 1")
	}
	return &SigCache{chainID: chainID, set: make(map[[32]byte]struct{}, size), ring: make([][32]byte, 0, size)}
}

// Len returns the number of remembered hashes.
func (c *SigCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.set)
}

func (c *SigCache) has(chainID string, h [32]byte) bool {
	if c == nil || chainID != c.chainID {
		return false
	}
	c.mu.Lock()
	_, ok := c.set[h]
	c.mu.Unlock()
	return ok
}

func (c *SigCache) add(chainID string, h [32]byte) {
	if c == nil || chainID != c.chainID {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; ok {
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, h)
	} else {
		delete(c.set, c.ring[c.next])
		c.ring[c.next] = h
		c.next = (c.next + 1) % len(c.ring)
	}
	c.set[h] = struct{}{}
}

// take reports whether h is remembered and forgets it: a transaction is delivered once.
func (c *SigCache) take(chainID string, h [32]byte) bool {
	if c == nil || chainID != c.chainID {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[h]; !ok {
		return false
	}
	delete(c.set, h)
	return true
}
