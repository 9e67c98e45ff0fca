package memlimit

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

func TestPretouchTooSmall(t *testing.T) {
	if n := Pretouch(minPretouch - 1); n != 0 {
		t.Errorf("Pretouch(%d) = %d, want 0: not worth a collection", minPretouch-1, n)
	}
}

// TestPretouchCappedByLimit checks that Pretouch never takes the heap
// near the soft memory limit: the pages it backs must be ones the scan
// would use, not more.
func TestPretouchCappedByLimit(t *testing.T) {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	used := int64(s[0].Value.Uint64() - s[1].Value.Uint64())
	old := debug.SetMemoryLimit(used + 8<<20)
	defer debug.SetMemoryLimit(old)
	if n := Pretouch(1 << 30); n != 0 {
		t.Errorf("Pretouch(1 GiB) with 8 MiB below the limit = %d, want 0", n)
	}
}

func TestPretouchCappedWithoutLimit(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	if h := headroom(); h != unlimitedPretouch {
		t.Errorf("headroom without a memory limit = %d, want %d: an estimate must not back gigabytes", h, unlimitedPretouch)
	}
}

// TestPretouchSavesFaults checks what Pretouch is for: in a fresh process
// (a scan command), filling the heap with new objects after it faults far
// fewer pages than without. Each measurement runs in a child process: in
// one that has grown and returned its heap before, new objects land in
// its older free pages, not in those Pretouch backed. Without the kernel's
// MADV_POPULATE_WRITE (Linux 5.14) the test is skipped, and fails under
// make test, whose machines have it.
func TestPretouchSavesFaults(t *testing.T) {
	child := func(mode string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), pretouchChildEnv+"="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %s: %v\n%s", mode, err, out)
		}
		_, after, ok := strings.Cut(string(out), "faults=")
		if !ok {
			t.Fatalf("child %s printed no faults:\n%s", mode, out)
		}
		n, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
		if err != nil {
			t.Fatalf("child %s: %v", mode, err)
		}
		return n
	}
	// The best of three warm children is judged: how many pages the
	// scavenger returns first varies with when it gets the CPU.
	cold := child("cold")
	warm := child("warm")
	for range 2 {
		warm = min(warm, child("warm"))
	}
	if warm < 0 {
		sharedtest.Missing(t, "the kernel cannot populate memory (MADV_POPULATE_WRITE: Linux 5.14 and later)")
	}
	// Written, 48 MiB is 12,288 pages; warm is not 0: the background
	// scavenger returns some free pages before they are used. Under the
	// race detector each page also faults its shadow, which Pretouch does
	// not back: the saving is judged, not only the ratio.
	if saved := cold - warm; saved < 12288/3 {
		t.Errorf("writing 48 MiB faulted %d pages after Pretouch, %d without: want at least 4,096 fewer", warm, cold)
	}
	if !raceEnabled && warm*4 > cold*3 {
		t.Errorf("writing 48 MiB faulted %d pages after Pretouch, %d without: want far fewer", warm, cold)
	}
	t.Logf("faults writing 48 MiB: %d without Pretouch, %d after", cold, warm)
}

const pretouchChildEnv = "PALISADE_PRETOUCH_CHILD"

// TestMain runs the child of TestPretouchSavesFaults when asked to.
func TestMain(m *testing.M) {
	if mode := os.Getenv(pretouchChildEnv); mode != "" {
		pretouchChild(mode)
		return
	}
	os.Exit(m.Run())
}

// pretouchChild writes 48 MiB of new 32 KiB objects, after Pretouch when
// mode is warm, and prints the faults (-1: Pretouch could not populate).
func pretouchChild(mode string) {
	if mode == "warm" && Pretouch(64<<20) == 0 {
		fmt.Println("faults=-1")
		return
	}
	faults := func() int64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			panic(fmt.Sprintf("getrusage: %v", err))
		}
		return ru.Minflt
	}
	before := faults()
	keep := make([][]byte, 0, 1536)
	for range cap(keep) {
		b := make([]byte, 32<<10)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	runtime.KeepAlive(keep)
	fmt.Printf("faults=%d\n", faults()-before)
}
