package sqlite

import (
	"context"
	"fmt"

	"github.com/palisade-sec/palisade/internal/store"
)

// AppendAuditBatch stores events and alerts in one transaction; see
// store.AuditStore.
func (s *Store) AppendAuditBatch(ctx context.Context, events []store.AuditEvent, alerts []store.Alert) (int, error) {
	if err := store.ValidateAuditEvents(events); err != nil {
		return 0, fmt.Errorf("append audit batch: %w", err)
	}
	for i := range alerts {
		if err := alerts[i].Validate(); err != nil {
			return 0, fmt.Errorf("append audit batch: alerts[%d]: %w", i, err)
		}
	}
	if len(events) == 0 && len(alerts) == 0 {
		return 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("append audit batch: begin: %w", err)
	}
	defer tx.Rollback()
	added := 0
	if len(events) > 0 {
		if added, err = insertAuditEvents(ctx, tx, events); err != nil {
			return 0, fmt.Errorf("append audit batch: %w", err)
		}
	}
	for _, a := range alerts {
		if err := upsertAlert(ctx, tx, a); err != nil {
			return 0, fmt.Errorf("append audit batch: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("append audit batch: commit: %w", err)
	}
	return added, nil
}
