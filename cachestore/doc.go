// Package cachestore is where cached objects live: a memory tier charged in bytes
// (Object.Cost), its objects in a sharded map keyed by the key's hash and evicted by S3-FIFO,
// which keeps what is asked for again and lets one-hit wonders pass; the Object model; and
// the URL, prefix and tag indexes that purges use.
//
// Memory is safe for concurrent use. Get takes only its map shard's lock, shared; Sets take
// turns (each evicts what it needs room for); hard purges exclude Sets. Any later Set may
// evict an object, so a stored object is a hint, never an answer to the request that filled it. Purges
// are generation-stamped: an object whose fill began before a matching hard purge is refused
// by Set, so a slow fill cannot bring purged content back.
package cachestore
