package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

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
	added := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if len(events) > 0 {
			if added, err = insertAuditEvents(ctx, tx, events); err != nil {
				return err
			}
		}
		// In ID order, like the events, so overlapping batches of two
		// replicas take row locks in one order and cannot deadlock.
		for _, a := range slices.SortedStableFunc(slices.Values(alerts), func(a, b store.Alert) int { return cmp.Compare(a.ID, b.ID) }) {
			if err := upsertAlert(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("append audit batch: %w", err)
	}
	return added, nil
}
