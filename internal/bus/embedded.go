package bus

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedServer is an in-process NATS server with JetStream on file
// storage. It listens on no port: the process connects in-process, so the
// embedded bus adds no network surface.
type embeddedServer struct {
	ns *server.Server
}

func startEmbedded(dir string, logger *slog.Logger) (*embeddedServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create bus directory: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "palisade-embedded",
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		NoSigs:     true,
		// "Durable" must survive a power cut, not only a crash: every
		// message is written before its acknowledgement (R1 streams flush
		// in place) and PublishBatch returns only after an fsync that
		// covers it (groupSync), shared by concurrent publishes rather than
		// SyncAlways's one per message.
		SyncAlways: false,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	ns.SetLoggerV2(&slogAdapter{logger.With("component", "nats")}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start within 30s (store %s)", dir)
	}
	return &embeddedServer{ns: ns}, nil
}

func (e *embeddedServer) shutdown() {
	e.ns.Shutdown()
	e.ns.WaitForShutdown()
}

// slogAdapter routes the NATS server's log lines into slog.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) Noticef(format string, v ...any) { a.l.Info(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Tracef(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
