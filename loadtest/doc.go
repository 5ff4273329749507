// Package loadtest is Shoal's load testing on vegeta's library (tsenart/vegeta v12): attacks
// run by vegeta's Attacker with its pacers, results are vegeta.Result in vegeta's encodings
// (gob, JSON, CSV), reports are vegeta's Metrics, histograms and plot, so every file mixes
// freely with the vegeta CLI. What vegeta lacks is added on top of it: the CDN scenarios as
// vegeta.Targeters (hit, miss, Zipf mix, stampede, purge storm, several bases for failover),
// DNS load through an http.RoundTripper that speaks DNS, and measuring latency from when a
// request was due rather than when it was sent (Config.FromSchedule: no coordinated omission).
//
// Concurrency contract: vegeta calls Targeters from many worker goroutines at once, so every
// Targeter here is safe for that; Attack calls its sink from the caller's goroutine only.
package loadtest
