// Package cachestore is where cached objects live: a memory tier on ristretto v2 charged in
// bytes (Object.Cost), the Object model, and the URL, prefix and tag indexes that purges use.
//
// Memory is safe for concurrent use. Get takes no lock of the store's own; Sets run in parallel
// with each other; hard purges exclude Sets. ristretto applies Sets asynchronously and may drop
// them, so a stored object is a hint, never an answer to the request that filled it. Purges
// are generation-stamped: an object whose fill began before a matching hard purge is refused
// by Set, so a slow fill cannot bring purged content back.
package cachestore
