package pgstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// ReadStreamTail reads the last limit events of stream, in forward order.
func (s *Store) ReadStreamTail(ctx context.Context, stream string, limit int) ([]eventstore.RecordedEvent, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: read stream tail %q: max %d must be at least 1", stream, limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events e
		WHERE e.stream_id = $1 ORDER BY e.stream_revision DESC LIMIT $2`, stream, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read stream tail %q: %w", stream, err)
	}
	defer rows.Close()
	var out []eventstore.RecordedEvent
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("pgstore: read stream tail %q: %w", stream, err)
		}
		e, err := r.recorded()
		if err != nil {
			return nil, fmt.Errorf("pgstore: read stream tail %q: %w", stream, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: read stream tail %q: %w", stream, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	slices.Reverse(out)
	return out, nil
}
