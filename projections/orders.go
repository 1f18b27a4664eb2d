package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Orders builds the `orders` and `order_events` read models: each order's
// owner and status, and its trail of events for auditors.
type Orders struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (Orders) Name() string { return "orders" }

// Filter selects the order events, and PremiumExtended (which marks the
// paying order's Premium as granted).
func (Orders) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: append(domain.OrderEventTypes(), domain.PremiumExtended{}.EventType())}
}

// Reset empties the read models.
func (Orders) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE orders, order_events`)
	return err
}

// Apply writes a batch of order events, pipelined in one round trip.
func (Orders) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	for _, rec := range events {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return err
		}
		if ev, ok := e.(domain.PremiumExtended); ok {
			b.Queue(`UPDATE orders SET premium_granted = true WHERE app_trans_id = $1`, ev.OrderID)
			continue
		}
		id := strings.TrimPrefix(rec.StreamID, "order-")
		at := rec.Metadata.OccurredAt
		if at.IsZero() {
			at = rec.RecordedAt
		}
		// ON CONFLICT keeps a replay of the same event harmless.
		b.Queue(`INSERT INTO order_events (position, app_trans_id, event_type, occurred_at, actor_id, source, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (position) DO NOTHING`,
			rec.Position, id, rec.Type, at, rec.Metadata.ActorID, rec.Metadata.Source, []byte(rec.Data))
		status := ""
		switch e := e.(type) {
		case domain.OrderCreated:
			b.Queue(`INSERT INTO orders (app_trans_id, user_id, amount, premium_days, status, created_at, updated_at, position)
				VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) ON CONFLICT (app_trans_id) DO NOTHING`,
				id, e.UserID, e.Amount, domain.PremiumDays(e.Items), e.CreatedAt, at, rec.Position)
		case domain.OrderPaid:
			b.Queue(`UPDATE orders SET status = 'paid', zp_trans_id = $2, updated_at = $3, position = $4 WHERE app_trans_id = $1`,
				id, e.ZPTransID, at, rec.Position)
		case domain.GatewayRejected, domain.OrderFailed:
			status = string(domain.OrderFail)
		case domain.OrderExpired:
			status = string(domain.OrderExpire)
		}
		if status != "" {
			b.Queue(`UPDATE orders SET status = $2, updated_at = $3, position = $4 WHERE app_trans_id = $1`,
				id, status, at, rec.Position)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("orders projector: %w", err)
	}
	return nil
}

// OrderWork finds the reconciler's work in the orders read model and holds
// its cluster-wide lock (the commands.OrderWork port).
type OrderWork struct {
	pool *pgxpool.Pool
}

// NewOrderWork makes the reconciler's work finder on the read-model pool.
func NewOrderWork(pool *pgxpool.Pool) *OrderWork { return &OrderWork{pool: pool} }

// PendingOrders lists pending orders, oldest first.
func (w *OrderWork) PendingOrders(ctx context.Context, limit int) ([]domain.PendingOrder, error) {
	rows, err := w.pool.Query(ctx, `SELECT app_trans_id, created_at FROM orders
		WHERE status = 'pending' ORDER BY created_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending orders: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.PendingOrder, error) {
		var p domain.PendingOrder
		return p, r.Scan(&p.AppTransID, &p.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("pending orders: %w", err)
	}
	return out, nil
}

// UngrantedPremium lists paid Premium orders whose extension is missing,
// for buyers who still have an account.
func (w *OrderWork) UngrantedPremium(ctx context.Context, limit int) ([]string, error) {
	rows, err := w.pool.Query(ctx, `SELECT o.app_trans_id FROM orders o
		WHERE o.status = 'paid' AND o.premium_days > 0 AND NOT o.premium_granted
		  AND EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
		ORDER BY o.created_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("ungranted premium: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ungranted premium: %w", err)
	}
	return ids, nil
}

// reconcilerLockKey must stay the same across releases: two versions of
// the binary running side by side during a deploy must contend for it.
func reconcilerLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("reconciler:orders"))
	return int64(h.Sum64())
}

// WithLock runs fn holding a session-level advisory lock on a connection of
// its own; when another replica holds it, fn does not run.
func (w *OrderWork) WithLock(ctx context.Context, fn func(context.Context) error) (bool, error) {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("reconciler lock: %w", err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, reconcilerLockKey()).Scan(&got); err != nil {
		return false, fmt.Errorf("reconciler lock: %w", err)
	}
	if !got {
		return false, nil
	}
	ferr := fn(ctx)
	// Unlock even when ctx ended, or the pooled session would keep the lock.
	unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, reconcilerLockKey()); err != nil {
		// A session that cannot unlock must not go back to the pool holding it.
		conn.Conn().Close(unlockCtx)
		return true, errors.Join(ferr, fmt.Errorf("reconciler unlock: %w", err))
	}
	return true, ferr
}
