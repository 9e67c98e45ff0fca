package bench

import (
	"context"
	goruntime "runtime"
	"strconv"
	"syscall"
	"golang.org/x/sys/unix"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/cli"
)

func TestZZProf(t *testing.T) {
	devNull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: devNull, Stderr: os.Stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	if mb := os.Getenv("ZZ_BALLAST"); mb != "" {
		t0 := time.Now()
		n, _ := strconv.Atoi(mb)
		b := make([]byte, n<<20)
		err := unix.Madvise(b, unix.MADV_POPULATE_WRITE)
		b = nil
		goruntime.GC()
		t.Logf("ballast %d MB: %v %v", n, err, time.Since(t0))
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(0, &ru0)
	defer func() { var ru syscall.Rusage; syscall.Getrusage(0, &ru); t.Logf("minflt %d", ru.Minflt-ru0.Minflt) }()
	f, _ := os.Create("/tmp/cmdtable.prof")
	pprof.StartCPUProfile(f)
	t0 := time.Now()
	code := cli.Execute(context.Background(), []string{"posture", "scan", "--fail-on", "none", "-o", os.Getenv("ZZ_FMT"), "/tmp/posture-big.yaml"}, env)
	pprof.StopCPUProfile()
	t.Logf("code %d took %v", code, time.Since(t0))
}
