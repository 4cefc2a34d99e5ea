package classifier

import (
	"sync/atomic"
)

// memo is a bounded, lock-free, direct-mapped memo: a key lives in the
// slot its hash names and a new key evicts the one there. A lookup is one
// atomic load and a key comparison; a miss that computes the value
// publishes it with one store. Values are never written after they are
// published, so readers share them. The zero value is not usable: see
// newMemo.
type memo[K comparable, V any] struct {
	slots []atomic.Pointer[memoSlot[K, V]]
}

type memoSlot[K comparable, V any] struct {
	key K
	val V
}

// newMemo returns a memo of 1<<bits slots.
func newMemo[K comparable, V any](bits uint) *memo[K, V] {
	return &memo[K, V]{slots: make([]atomic.Pointer[memoSlot[K, V]], 1<<bits)}
}

// get returns the value of k (whose hash is h), nil when its slot does
// not hold it.
func (m *memo[K, V]) get(h uint64, k K) *V {
	if s := m.slots[h&uint64(len(m.slots)-1)].Load(); s != nil && s.key == k {
		return &s.val
	}
	return nil
}

// put keeps v as the value of k (whose hash is h), evicting what its slot
// held, and returns the kept copy.
func (m *memo[K, V]) put(h uint64, k K, v V) *V {
	s := &memoSlot[K, V]{key: k, val: v}
	m.slots[h&uint64(len(m.slots)-1)].Store(s)
	return &s.val
}

// mix64 spreads the bits of x over a slot number (splitmix64's finaliser).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
