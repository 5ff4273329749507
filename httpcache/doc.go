// Package httpcache holds the HTTP caching rules of a shared cache (a CDN edge)
// as pure functions: RFC 9111 storing, freshness, validation and invalidation,
// RFC 5861 stale extensions, RFC 9211 Cache-Status, RFC 9213 targeted fields and
// the RFC 9110 conditional and range rules.
//
// Nothing here does I/O, starts goroutines or reads the clock: every function that
// needs the time takes a `now` argument. The one exception is an obsolete rfc850-date,
// whose two-digit year RFC 9110 section 5.6.7 places against the recipient's present. All functions are safe for concurrent use;
// values such as Header are plain slices, so callers must not share one Header
// between goroutines while mutating it.
package httpcache
