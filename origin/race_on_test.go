//go:build race

package origin

// raceEnabled: under the race detector sync.Pool drops a share of what is put back (the
// connections' readers and writers, here), so tests that count allocations only log them;
// make test runs them again without it (ALLOCTESTS).
const raceEnabled = true
