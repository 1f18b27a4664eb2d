package projections

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func orderEvent(t *testing.T, pos int, stream, source string, e domain.Event) eventstore.RecordedEvent {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, pos, 0, time.UTC)
	return eventstore.RecordedEvent{ID: uuid.New(), StreamID: stream, Position: uint64(pos), Type: e.EventType(),
		Data: raw, RecordedAt: at, Metadata: eventstore.Metadata{OccurredAt: at, ActorID: "actor-" + source, Source: source}}
}

func applyOrders(t *testing.T, pool *pgxpool.Pool, events []eventstore.RecordedEvent, batch int, reset bool) {
	t.Helper()
	applySelected(t, pool, Orders{}, events, batch, reset)
}

type orderRow struct {
	status  string
	granted bool
	days    int
	trail   int
}

func readOrderRows(t *testing.T, pool *pgxpool.Pool) map[string]orderRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT o.app_trans_id, o.status, o.premium_granted, o.premium_days,
		(SELECT count(*) FROM order_events e WHERE e.app_trans_id = o.app_trans_id) FROM orders o`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]orderRow{}
	for rows.Next() {
		var id string
		var r orderRow
		if err := rows.Scan(&id, &r.status, &r.granted, &r.days, &r.trail); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	return out
}

// The orders projector gives the same rows whatever the batch size, and a
// replay after Reset rebuilds them; the work finder sees exactly the
// pending orders and the paid ones whose Premium is missing.
func TestOrdersProjectorAndWork(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	user := uuid.NewString()
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, username, role, created_at, position) VALUES ($1, 'Lan', 'User', now(), 1)`, user); err != nil {
		t.Fatal(err)
	}
	created := func(pos int, id string, qty int64) eventstore.RecordedEvent {
		return orderEvent(t, pos, domain.OrderStream(id), domain.SourceAPI, domain.OrderCreated{AppTransID: id, UserID: user,
			Items: []domain.OrderItem{{Name: domain.PremiumItemName, Price: 50000, Quantity: qty}}, Amount: 50000 * qty,
			CreatedAt: time.Date(2026, 1, 1, 0, 0, pos, 0, time.UTC)})
	}
	events := []eventstore.RecordedEvent{
		created(1, "260101_paid", 1),
		created(2, "260101_pending", 1),
		created(3, "260101_rejected", 1),
		created(4, "260101_expired", 2),
		orderEvent(t, 5, "order-260101_paid", domain.SourceCallback, domain.OrderPaid{AppTransID: "260101_paid", ZPTransID: 9, Amount: 50000}),
		orderEvent(t, 6, "order-260101_rejected", domain.SourceAPI, domain.GatewayRejected{AppTransID: "260101_rejected"}),
		orderEvent(t, 7, "order-260101_expired", domain.SourceReconciler, domain.OrderExpired{AppTransID: "260101_expired"}),
		orderEvent(t, 8, "order-260101_pending", domain.SourceStatusCheck, domain.StatusChecked{AppTransID: "260101_pending"}),
	}
	applyOrders(t, pool, events, 100, false)
	want := map[string]orderRow{
		"260101_paid":     {"paid", false, 30, 2},
		"260101_pending":  {"pending", false, 30, 2},
		"260101_rejected": {"failed", false, 30, 2},
		"260101_expired":  {"expired", false, 60, 2},
	}
	if got := readOrderRows(t, pool); len(got) != len(want) {
		t.Fatalf("rows %v", got)
	} else {
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: %+v, want %+v", id, got[id], w)
			}
		}
	}

	work := NewOrderWork(pool)
	pending, err := work.PendingOrders(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].AppTransID != "260101_pending" {
		t.Fatalf("pending %v %v", pending, err)
	}
	ungranted, err := work.UngrantedPremium(ctx, 10)
	if err != nil || len(ungranted) != 1 || ungranted[0] != "260101_paid" {
		t.Fatalf("ungranted %v %v", ungranted, err)
	}

	// The Premium extension marks the order; the trail keeps source and actor.
	events = append(events, orderEvent(t, 9, domain.UserStream(user), domain.SourceCallback,
		domain.PremiumExtended{UserID: user, OrderID: "260101_paid", Days: 30}))
	applyOrders(t, pool, events[8:], 1, false)
	if ungranted, _ := work.UngrantedPremium(ctx, 10); len(ungranted) != 0 {
		t.Fatalf("still ungranted: %v", ungranted)
	}
	var source, actor string
	if err := pool.QueryRow(ctx, `SELECT source, actor_id FROM order_events WHERE position = 5`).Scan(&source, &actor); err != nil ||
		source != "callback" || actor != "actor-callback" {
		t.Fatalf("trail row: %q %q %v", source, actor, err)
	}

	// One at a time, and again over itself, then replayed from scratch: the same rows.
	before := readOrderRows(t, pool)
	applyOrders(t, pool, events, 1, false)
	applyOrders(t, pool, events, 3, true)
	after := readOrderRows(t, pool)
	for id, r := range before {
		if after[id] != r {
			t.Errorf("%s after replay: %+v, want %+v", id, after[id], r)
		}
	}

	// The lock: a second holder is refused while the first holds it.
	ran, err := work.WithLock(ctx, func(ctx context.Context) error {
		inner, err := work.WithLock(ctx, func(context.Context) error { return nil })
		if err != nil || inner {
			t.Errorf("second holder ran=%v err=%v", inner, err)
		}
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("first holder ran=%v err=%v", ran, err)
	}
	if ran, _ := work.WithLock(ctx, func(context.Context) error { return nil }); !ran {
		t.Fatal("the lock was not released")
	}
}
