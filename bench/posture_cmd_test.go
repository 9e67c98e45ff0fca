package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/cli"
)

// BenchmarkPostureScan also runs the command a user runs, `palisade posture
// scan -o FORMAT --fail-on none FILE` with the report going to /dev/null, in
// a child process: the peak RSS (VmHWM) a user sees is the whole process's,
// report building and rendering included, which the in-process decode+Scan
// figure leaves out. The child is this test binary started with
// postureCmdEnv set to the JSON of its arguments (maybePostureCmdChild,
// from TestMain); it runs cli.Execute, as cmd/palisade does.
const postureCmdEnv = "PALISADE_BENCH_POSTURE_CMD"

// postureCmdFormats are the output formats the benchmark runs the command with.
var postureCmdFormats = []string{"json", "sarif", "table"}

// postureCmdResult is what the child measured of one command run.
type postureCmdResult struct {
	Wall, CPU time.Duration
	PeakRSS   int64 // bytes, the child's VmHWM
	Code      int   // the command's exit code
}

// maybePostureCmdChild runs the command postureCmdEnv names when this
// binary was started as runPostureCommand's child (TestMain dispatches, as
// for the webhook and image scan children), prints what it measured and
// reports whether it was.
func maybePostureCmdChild() (bool, error) {
	spec := os.Getenv(postureCmdEnv)
	if spec == "" {
		return false, nil
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		return true, fmt.Errorf("child arguments %q: %w", spec, err)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return true, err
	}
	defer devNull.Close()
	var stderr bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: devNull, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	start, cpu0 := time.Now(), cpuTime()
	code := cli.Execute(context.Background(), args, env)
	res := postureCmdResult{Wall: time.Since(start), CPU: cpuTime() - cpu0, PeakRSS: peakRSS(), Code: code}
	if code != cli.ExitOK {
		return true, fmt.Errorf("palisade %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	out, err := json.Marshal(res)
	if err != nil {
		return true, err
	}
	// The parent reads the last line that parses as a result.
	fmt.Printf("\n%s\n", out)
	return true, nil
}

// runPostureCommand runs `palisade ARGS...` in a child process in dir and
// returns what it measured.
func runPostureCommand(b *testing.B, dir string, args ...string) postureCmdResult {
	b.Helper()
	spec, err := json.Marshal(args)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Dir = dir // no palisade.yaml there: the default configuration
	cmd.Env = append(os.Environ(), postureCmdEnv+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("posture command child %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var res postureCmdResult
		if json.Unmarshal([]byte(lines[i]), &res) == nil && res.CPU > 0 {
			return res
		}
	}
	b.Fatalf("posture command child %v printed no result:\n%s", args, stdout.String())
	return postureCmdResult{}
}

// postureCmdStats keeps, per format, the fastest wall and CPU time (the runs
// least disturbed by other processes), the highest peak RSS, and each run's
// ratios to the YAML decode measured just before it.
type postureCmdStats struct {
	wall, cpu             time.Duration
	peak                  int64
	wallRatios, cpuRatios []float64
}

// add records run r, whose paired decode took decodeWall (decodeCPU of CPU).
func (s *postureCmdStats) add(r postureCmdResult, decodeWall, decodeCPU time.Duration) {
	if s.wall == 0 || r.Wall < s.wall {
		s.wall = r.Wall
	}
	if s.cpu == 0 || r.CPU < s.cpu {
		s.cpu = r.CPU
	}
	s.peak = max(s.peak, r.PeakRSS)
	s.wallRatios = append(s.wallRatios, float64(r.Wall)/float64(decodeWall))
	s.cpuRatios = append(s.cpuRatios, float64(r.CPU)/float64(decodeCPU))
}

// median returns the median wall and CPU ratios of the runs to their decodes.
func (s *postureCmdStats) median() (wall, cpu float64) {
	return medianOf(s.wallRatios), medianOf(s.cpuRatios)
}

// wallRange prints the lowest and highest wall ratio.
func (s *postureCmdStats) wallRange() string {
	if len(s.wallRatios) == 0 {
		return "no runs"
	}
	return fmt.Sprintf("%.2f–%.2f over %d runs", slices.Min(s.wallRatios), slices.Max(s.wallRatios), len(s.wallRatios))
}

func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writePostureFile writes the benchmark's manifests where the child reads them.
func writePostureFile(b *testing.B, data []byte) (dir, file string) {
	b.Helper()
	dir = b.TempDir()
	file = filepath.Join(dir, "manifests.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir, file
}
