//go:build !race

package cachestore

// raceEnabled lets heavy tests shrink under the race detector, which slows them tenfold.
const raceEnabled = false
