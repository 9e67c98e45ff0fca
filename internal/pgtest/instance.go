package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	startTries   = 3 // another process may take the free port before postgres binds it
)

// instance is one running server.
type instance struct {
	base    string // temporary directory holding data, socket and log
	port    int
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when postgres has exited
	waitErr error         // valid after done is closed
	admin   *pgxpool.Pool // on the "postgres" database
}

// startInstance runs initdb and starts postgres from the binaries in
// directory bin, ready to accept connections.
func startInstance(ctx context.Context, bin string) (inst *instance, err error) {
	run, err := runAs()
	if err != nil {
		return nil, err
	}
	base, err := makeBaseDir(run)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(base)
		}
	}()

	data := filepath.Join(base, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--no-locale", "--encoding=UTF8", "--no-sync")
	initdb.Env = childEnv()
	initdb.SysProcAttr = run.sysProcAttr()
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb %s: %w\n%s", data, err, out)
	}

	for try := 1; ; try++ {
		inst, err = launch(ctx, bin, base, run)
		if err == nil || try == startTries || !errors.Is(err, errPortTaken) {
			return inst, err
		}
	}
}

var errPortTaken = errors.New("port taken")

// launch starts postgres on a free port and waits until it accepts
// connections.
func launch(ctx context.Context, bin, base string, run *credential) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	inst := &instance{base: base, port: port, logPath: filepath.Join(base, "postgres.log"), done: make(chan struct{})}
	logFile, err := os.OpenFile(inst.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create postgres log: %w", err)
	}
	// Deliberately not exec.CommandContext: the server must outlive the
	// context that started it and end only through stop.
	inst.cmd = exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(base, "data"),
		"-k", base, // unix socket beside the data, not in /var/run
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		// Durability is worthless for throwaway test data; speed is not.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300",
	)
	inst.cmd.Env = childEnv()
	inst.cmd.Stdout, inst.cmd.Stderr = logFile, logFile
	inst.cmd.SysProcAttr = run.sysProcAttr()
	// Own process group, so that a terminal's Ctrl-C reaches only the test
	// binary; Pdeathsig kills the server if the test binary dies without
	// cleaning up (a timeout panic, SIGKILL).
	inst.cmd.SysProcAttr.Setpgid = true
	inst.cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := inst.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() {
		inst.waitErr = inst.cmd.Wait()
		logFile.Close()
		close(inst.done)
	}()
	if err := inst.waitReady(ctx); err != nil {
		inst.kill()
		return nil, err
	}
	return inst, nil
}

// waitReady waits until the server accepts connections and opens the
// admin pool.
func (inst *instance) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		select {
		case <-inst.done:
			log := inst.logTail()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
				return fmt.Errorf("postgres on port %d: %w", inst.port, errPortTaken)
			}
			return fmt.Errorf("postgres exited during startup (%v):\n%s", inst.waitErr, log)
		default:
		}
		err := inst.ping(ctx)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready after %s: %w\n%s", readyTimeout, err, inst.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	pool, err := pgxpool.New(ctx, inst.dsn("postgres")+"&pool_max_conns=4")
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	inst.admin = pool
	return nil
}

func (inst *instance) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, inst.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// dsn returns the connection string of database db.
func (inst *instance) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", inst.port, db)
}

// stop shuts the server down (SIGINT: fast shutdown, which ends every
// backend), waits for it, and removes its directory.
func (inst *instance) stop() error {
	if inst.admin != nil {
		inst.admin.Close()
	}
	var errs []error
	if err := inst.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("signal postgres: %w", err))
	}
	select {
	case <-inst.done:
	case <-time.After(stopTimeout):
		errs = append(errs, fmt.Errorf("postgres did not stop within %s, killed it:\n%s", stopTimeout, inst.logTail()))
		inst.kill()
	}
	if err := os.RemoveAll(inst.base); err != nil {
		errs = append(errs, fmt.Errorf("remove postgres directory: %w", err))
	}
	return errors.Join(errs...)
}

// kill kills the server's whole process group and waits for the postmaster.
func (inst *instance) kill() {
	_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-inst.done:
	case <-time.After(10 * time.Second):
	}
}

// logTail returns the end of the server log, which explains a failed start.
func (inst *instance) logTail() string {
	b, _ := os.ReadFile(inst.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the environment for initdb and postgres: ours without the PG*
// variables (PGDATA, PGPORT, … would redirect them) and with messages in
// English, since logTail output is read by people.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}
