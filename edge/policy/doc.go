// Package policy is the operator's policy of one route, compiled: the rules Varnish VCL and
// nginx locations are used for (TTLs the operator sets, cache key shaping, cookie handling,
// request and response field rules, redirects and rewrites, access lists, body limits, error
// pages).
//
// It is a leaf: Config is plain Go that conf fills from YAML, Compile turns it into Rules, and
// every rule is a pure function of its inputs with no I/O. A route that uses no rule compiles
// to a nil part (Rules.Request, Rules.Response, Rules.Key, ...), so the edge tests one pointer
// and pays nothing more. Compiled Rules are immutable and safe for concurrent use; a reload
// compiles new Rules and swaps them with the rest of the settings.
//
// What holds: the origin always receives what the key describes. A dropped query parameter
// (Key.Query) is dropped from the target sent to the origin too, and a rewritten path
// (Rewrite.Path) is the path keyed, so no two different origin requests share one object.
package policy
