// Package edge is one Shoal node: New assembles the store, origin pools and routes from a
// conf.Config, and Node serves the HTTP data plane (fasthttp), the cache pipeline
// (lookup, coalesced fill, serve) and the admin listener (metrics, health).
//
// Reload swaps routes, pools and limits as one value: a request sees either the old or the new
// configuration, never a mix, and neither open connections nor the cache are dropped.
package edge
