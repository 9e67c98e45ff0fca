//go:build race

package memlimit

// raceEnabled: the race detector backs each heap page with shadow memory
// that faults on its own, which Pretouch does not back.
const raceEnabled = true
