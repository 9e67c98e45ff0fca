package audit

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"
)

// Replay decodes r and runs every event through en, calling alert for
// each alert raised. It is the whole offline pipeline of `palisade audit
// replay`; the server runs the same Decode and Engine.Process. Decoding and
// rule conditions run on GOMAXPROCS goroutines; alerts come in input order.
func Replay(ctx context.Context, en *Engine, r io.Reader, src Source, now func() time.Time, alert func(*Alert) error) (Stats, error) {
	opts := DecodeOptions{Workers: runtime.GOMAXPROCS(0), Prepare: en.Prepare}
	st, err := DecodeWith(ctx, r, src, now, opts, func(e *Event) error {
		for _, a := range en.Process(e) {
			if err := alert(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("replay %s: %w", src.Name, err)
	}
	return st, nil
}
