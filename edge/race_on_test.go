//go:build race

package edge

// raceEnabled: under the race detector sync.Pool drops a share of what is put back, so
// what a pool saves shows up as allocations; tests that count them allow for it.
const raceEnabled = true
