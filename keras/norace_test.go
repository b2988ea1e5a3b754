//go:build !race

package keras

// raceEnabled: the tests run under the race detector.
const raceEnabled = false
