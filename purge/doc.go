// Package purge is Shoal's invalidation: the purge API (by URL, prefix, surrogate key or
// everything; hard or soft), its authentication, the fan-out of each purge to every live node
// with acknowledgements, and a bounded ban log from which a node that missed purges catches up.
//
// A purge is applied to the local store before Purge returns, and on every peer that
// acknowledged it; peers named in Response.Missing may still hold purged objects until a gossip
// broadcast or CatchUp reaches them, so the cluster is eventually consistent and the answer says
// exactly how far it got. Every purge carries an id: applying it again (fan-out, gossip and
// catch-up may all deliver it) changes nothing while the id is in the ban log; a peer
// acknowledges it only once it is applied, even when another delivery is applying it. All methods of
// Service are safe for concurrent use.
package purge
