package ledger

import "fmt"

// NonceWindow is how far below its highest accepted nonce an account may still use a nonce it
// has not used yet. Validators gossip transactions independently, so a signer's transactions
// can reach a block out of the order they were signed in; the window accepts them anyway,
// while every nonce is still accepted at most once (replays stay rejected).
const NonceWindow = 1024

// nonceBits records which of the NonceWindow nonces below an account's highest accepted nonce
// were used: bit i stands for nonce Nonce-1-i.
type nonceBits [NonceWindow / 64]uint64

func (b *nonceBits) has(i uint64) bool { return b[i/64]>>(i%64)&1 == 1 }
func (b *nonceBits) set(i uint64)      { b[i/64] |= 1 << (i % 64) }

// shift moves every bit k places up (towards older nonces); bits past the window fall off.
func (b *nonceBits) shift(k uint64) {
	if k >= NonceWindow {
		*b = nonceBits{}
		return
	}
	w, r := int(k/64), k%64
	var out nonceBits
	for i := len(b) - 1; i >= w; i-- {
		out[i] = b[i-w] << r
		if r > 0 && i-w-1 >= 0 {
			out[i] |= b[i-w-1] >> (64 - r)
		}
	}
	*b = out
}

// checkNonce reports whether a may use nonce n: above its highest accepted nonce, or at most
// NonceWindow below it and not used yet. A nil account has used no nonce.
func (a *Account) checkNonce(n uint64) error {
	switch {
	case n == 0:
		return fmt.Errorf("%w: nonce 0", ErrNonce)
	case a == nil || n > a.Nonce:
		return nil
	case n == a.Nonce:
		return fmt.Errorf("%w: nonce %d, the last accepted", ErrNonce, n)
	case a.Nonce-n > NonceWindow:
		return fmt.Errorf("%w: nonce %d, more than %d below the highest accepted %d", ErrNonce, n, NonceWindow, a.Nonce)
	case a.Used.has(a.Nonce - n - 1):
		return fmt.Errorf("%w: nonce %d (highest accepted %d)", ErrNonce, n, a.Nonce)
	}
	return nil
}

// useNonce records nonce n as used; checkNonce(n) must have passed.
func (a *Account) useNonce(n uint64) {
	if n < a.Nonce {
		a.Used.set(a.Nonce - n - 1)
		return
	}
	a.Used.shift(n - a.Nonce)
	if a.Nonce > 0 && n-a.Nonce <= NonceWindow {
		a.Used.set(n - a.Nonce - 1)
	}
	a.Nonce = n
}
