// Package origin is a pool of backend servers for the Shoal edge, in the manner of an HAProxy
// backend: it balances requests over keep-alive fasthttp clients, takes servers out on failed
// active probes or on consecutive live errors, keeps clients on one server by cookie or source
// address, retries idempotent requests on another server, and limits and queues connections per
// server.
//
// Passive checks never empty a pool: when they have ejected every server, the least recently
// failed one still takes requests; only active probes take a pool fully down.
//
// A Pool is safe for concurrent use. Health state changes (probe verdicts, ejections, their
// expiry) take effect for every request that picks a server after the change; a request never
// goes to a server known down at the time it is picked, and a request already sent is never
// moved. Retries happen only inside Do, before any response byte is handed to the caller.
package origin
