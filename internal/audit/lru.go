package audit

import (
	"container/list"
	"time"
)

// lru is a bounded map whose entries expire: the state of dedupe, throttle
// and correlation, which must stay flat however many events pass. It is not
// safe for concurrent use; its owners hold their own lock.
type lru[K comparable, V any] struct {
	max   int
	ttl   time.Duration
	order *list.List // front: most recently touched
	items map[K]*list.Element
	// onRemove, when set, is called with the key of every entry that
	// leaves the table (evicted or expired).
	onRemove func(K)
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	seen time.Time
}

func newLRU[K comparable, V any](max int, ttl time.Duration) *lru[K, V] {
	return &lru[K, V]{max: max, ttl: ttl, order: list.New(), items: make(map[K]*list.Element)}
}

// get returns the live entry for k, if any.
func (c *lru[K, V]) get(k K, now time.Time) (V, bool) {
	var zero V
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	ent := el.Value.(*lruEntry[K, V])
	if c.ttl > 0 && now.Sub(ent.seen) > c.ttl {
		c.order.Remove(el)
		delete(c.items, k)
		if c.onRemove != nil {
			c.onRemove(k)
		}
		return zero, false
	}
	return ent.val, true
}

// has reports whether k holds an entry, live or not yet expired.
func (c *lru[K, V]) has(k K) bool { _, ok := c.items[k]; return ok }

// put stores v under k, stamped now, evicting the least recently touched
// entry when full.
func (c *lru[K, V]) put(k K, v V, now time.Time) {
	if el, ok := c.items[k]; ok {
		ent := el.Value.(*lruEntry[K, V])
		ent.val, ent.seen = v, now
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, seen: now})
	for c.order.Len() > c.max {
		back := c.order.Back()
		c.order.Remove(back)
		key := back.Value.(*lruEntry[K, V]).key
		delete(c.items, key)
		if c.onRemove != nil {
			c.onRemove(key)
		}
	}
}

// len returns the number of entries held, live or not yet swept.
func (c *lru[K, V]) len() int { return c.order.Len() }

// Deduper drops events already seen, by auditID and stage, remembering the
// last max keys (the API server's webhook backend retries whole batches, and
// rotated log files overlap).
//
// Seeing a key again does not refresh it, so the table forgets keys in the
// order they came: a ring of keys and a set, with no per-event list entries
// as in lru.
type Deduper struct {
	max  int
	set  map[dedupeKey]struct{}
	ring []dedupeKey // the keys in arrival order, from next on, once full
	next int
}

// dedupeKey is Event.Key as a pair, so that checking an event allocates
// no key.
type dedupeKey struct{ auditID, stage string }

// NewDeduper returns a Deduper remembering up to max keys.
func NewDeduper(max int) *Deduper {
	return &Deduper{max: max, set: make(map[dedupeKey]struct{})}
}

// Seen reports whether e was seen before, and records it. Events without an
// auditID are never duplicates: there is nothing to compare.
func (d *Deduper) Seen(e *Event) bool {
	if e.AuditID == "" {
		return false
	}
	k := dedupeKey{e.AuditID, e.Stage}
	if _, ok := d.set[k]; ok {
		return true
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, k)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % d.max
	}
	d.set[k] = struct{}{}
	return false
}

// len returns the number of keys held.
func (d *Deduper) len() int { return len(d.set) }
