package static

import (
	"sync"
	"time"
)

// sharedShards is the number of shards of a [SharedCache].
const sharedShards = 16

// SharedCache is a [Cache] safe for concurrent use, for the connections of
// a server that run on goroutines of their own: its entries are split
// among a fixed number of shards, each a Cache behind its own mutex, and a
// request goes to the shard its document root and raw path hash to (two
// spellings of one path may make two entries). A hit locks one shard,
// makes no system call and no allocation.
//
// The config's MaxEntries and MemoryBudget bound the whole SharedCache:
// each shard gets an even share.
//
// Results follow the rules of a Cache's (see [Cache]: Body shared and
// read-only, File shared and released once), except that Result.Close may
// be called from any goroutine; they have no [Cache.ReleaseFile]. Close
// the SharedCache once no goroutine serves from it: the files Results
// still hold are closed by their last Close.
type SharedCache struct {
	shards [sharedShards]cacheShard
}

// cacheShard is one Cache of a SharedCache and the lock that guards it.
type cacheShard struct {
	mu sync.Mutex
	c  Cache // guarded by mu
}

// NewSharedCache returns an empty SharedCache.
func NewSharedCache(cfg CacheConfig) *SharedCache {
	per := cfg
	if per.MaxEntries <= 0 {
		per.MaxEntries = DefaultMaxEntries
	}
	per.MaxEntries = (per.MaxEntries + sharedShards - 1) / sharedShards
	if per.MemoryBudget == 0 {
		per.MemoryBudget = DefaultMemoryBudget
	}
	if per.MemoryBudget > 0 {
		per.MemoryBudget = max(per.MemoryBudget/sharedShards, 1)
	}
	s := new(SharedCache)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.c.init(per)
		sh.c.mu = &sh.mu
	}
	return s
}

// Serve answers req as [Cache.Serve] does, from the shard of (root,
// req.Path). It is safe for concurrent use.
func (s *SharedCache) Serve(root string, req *Request, opts *Options, now time.Time) Result {
	sh := &s.shards[shardOf(root, req.Path)]
	sh.mu.Lock()
	res := sh.c.Serve(root, req, opts, now)
	sh.mu.Unlock()
	return res
}

// Len returns the number of entries held.
func (s *SharedCache) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.c.Len()
		sh.mu.Unlock()
	}
	return n
}

// Close empties every shard as [Cache.Close] does. The SharedCache may be
// used again afterwards.
func (s *SharedCache) Close() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.c.Close()
		sh.mu.Unlock()
	}
}

// shardOf hashes a document root and a raw request path (FNV-1a) to a
// shard index.
func shardOf(root string, path []byte) int {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(root); i++ {
		h = (h ^ uint32(root[i])) * prime
	}
	for _, b := range path {
		h = (h ^ uint32(b)) * prime
	}
	return int(h % sharedShards)
}
