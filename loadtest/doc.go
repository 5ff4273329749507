// Package loadtest generates HTTP and DNS load against Shoal and reports on it in vegeta's
// formats: text targets in, JSON-lines results out, vegeta-style text/JSON/histogram reports
// and a self-contained HTML latency plot. Open-loop attacks schedule every request on a fixed
// timeline and measure latency from the scheduled instant, so a slow target shows up as
// latency instead of silently lowering the request rate (no coordinated omission).
//
// Concurrency contract: an Attacker runs one attack at a time; Hitters and TargetFuncs are
// called from many worker goroutines at once and must be safe for that, while a Sink is
// called from a single goroutine, never concurrently. Aggregator is not safe for concurrent use.
package loadtest
