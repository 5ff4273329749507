//go:build race

package turns

// raceEnabled: the race detector randomises the scheduler's run queue, whose order the tests
// observe.
const raceEnabled = true
