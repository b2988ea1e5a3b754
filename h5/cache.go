package h5

import "sync"

// Decoded object headers and group listings are cached per file: a file
// is read-only, so they never change, and Keras models with a thousand
// layers would otherwise have every path lookup re-read the groups it goes
// through. The cache is bounded in entries and in the bytes of metadata
// behind them, so a file cannot grow it without limit.
const (
	maxCacheEntries = 1 << 16
	maxCacheBytes   = 64 << 20
)

type cache struct {
	mu      sync.Mutex
	objects map[uint64]*object
	links   map[uint64][]link
	bytes   int
}

func (c *cache) object(addr uint64) *object {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.objects[addr]
}

func (c *cache) putObject(ob *object) {
	n := 64
	for _, m := range ob.msgs {
		n += 32 + len(m.data)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objects == nil {
		c.objects = map[uint64]*object{}
	}
	if len(c.objects)+len(c.links) >= maxCacheEntries || c.bytes+n > maxCacheBytes {
		return
	}
	c.objects[ob.addr] = ob
	c.bytes += n
}

func (c *cache) groupLinks(addr uint64) ([]link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.links[addr]
	return l, ok
}

func (c *cache) putLinks(addr uint64, links []link) {
	n := 64
	for _, l := range links {
		n += 48 + len(l.name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.links == nil {
		c.links = map[uint64][]link{}
	}
	if len(c.objects)+len(c.links) >= maxCacheEntries || c.bytes+n > maxCacheBytes {
		return
	}
	c.links[addr] = links
	c.bytes += n
}
