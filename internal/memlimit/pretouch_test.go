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
// its older free pages, not in those Pretouch backed.
func TestPretouchSavesFaults(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("populate needs Linux")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory faults apart from the heap")
	}
	child := func(mode string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPretouchChild$", "-test.count=1")
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
	cold := child("cold")
	warm := child("warm")
	if warm < 0 {
		t.Skip("the kernel cannot populate (before 5.14?)")
	}
	// Cold is ~12,300 (48 MiB in 4 KiB pages); warm is not 0: the
	// background scavenger returns some free pages before they are used.
	if warm*4 > cold*3 {
		t.Errorf("writing 48 MiB faulted %d pages after Pretouch, %d without: want far fewer", warm, cold)
	}
	t.Logf("faults writing 48 MiB: %d without Pretouch, %d after", cold, warm)
}

const pretouchChildEnv = "PALISADE_PRETOUCH_CHILD"

// TestPretouchChild is TestPretouchSavesFaults' child: it writes 48 MiB of
// new 32 KiB objects, after Pretouch when warm, and prints the faults
// (-1: Pretouch could not populate).
func TestPretouchChild(t *testing.T) {
	mode := os.Getenv(pretouchChildEnv)
	if mode == "" {
		t.Skip("run by TestPretouchSavesFaults")
	}
	if mode == "warm" && Pretouch(64<<20) == 0 {
		fmt.Println("faults=-1")
		return
	}
	faults := func() int64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
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
