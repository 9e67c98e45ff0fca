package sink

import (
	"context"

	"github.com/palisade-sec/palisade/internal/finding"
)

// MinSeverity wraps s so that it is sent only alerts at least min severe.
// The others count as delivered: leaving them out is the configuration,
// not a failure.
func MinSeverity(s Sink, min finding.Severity) Sink {
	if min <= finding.SeverityUnknown {
		return s
	}
	return &filtered{s, min}
}

type filtered struct {
	Sink
	min finding.Severity
}

func (f *filtered) Send(ctx context.Context, alerts []Alert) error {
	keep := alerts[:0:0]
	for _, a := range alerts {
		if a.Severity >= f.min {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return f.Sink.Send(ctx, keep)
}
