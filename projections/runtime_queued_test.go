package projections

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// A Queuer's statements, checkpoint and COMMIT leave in one pipeline: a
// fenced checkpoint must still roll its rows back, and a failing statement
// must leave neither rows nor a moved checkpoint nor a connection inside a
// transaction.
func TestQueuedCommitIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	pool, store := libraryStore(t)
	rt, err := New(Config{}, pool, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var _ Queuer = History{}
	r := &runner{p: History{}, name: History{}.Name(), filter: History{}.Filter(), lockKey: lockKey(History{}.Name())}
	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, 5, now())`, r.name); err != nil {
		t.Fatal(err)
	}
	listen := func(pos uint64, user, song string) eventstore.RecordedEvent {
		raw, _ := json.Marshal(domain.ListenRecorded{UserID: user, SongID: song, ListenedAt: time.Date(2026, 3, 8, 20, 0, int(pos), 0, time.UTC)})
		return eventstore.RecordedEvent{ID: uuid.New(), StreamID: domain.ListensStream(user), Position: pos, Type: "ListenRecorded", Data: raw}
	}
	user, song := uuid.NewString(), uuid.NewString()
	events := []eventstore.RecordedEvent{listen(6, user, song), listen(7, user, song)}
	checkpoint := func() string {
		return rowsOf(t, pool, `SELECT position::text FROM projection_checkpoints WHERE name = 'history'`)[0]
	}
	plays := func() string {
		return rowsOf(t, pool, `SELECT coalesce(sum(plays), 0)::text FROM listen_history`)[0]
	}

	// Someone else moved the checkpoint from 3: fenced, nothing written.
	err = rt.commit(ctx, r, 3, events, 7, nil)
	if !errors.Is(err, errFenced) {
		t.Fatalf("commit after a moved checkpoint: %v, want errFenced", err)
	}
	if plays() != "0" || checkpoint() != "5" {
		t.Fatalf("a fenced batch left plays %s, checkpoint %s", plays(), checkpoint())
	}

	// A statement that fails (a song id that is no UUID) rolls everything back.
	bad := []eventstore.RecordedEvent{listen(6, user, song), listen(7, user, "not-a-uuid")}
	if err := rt.commit(ctx, r, 5, bad, 7, nil); err == nil || errors.Is(err, errFenced) {
		t.Fatalf("commit of a bad batch: %v, want a statement error", err)
	}
	if plays() != "0" || checkpoint() != "5" {
		t.Fatalf("a failed batch left plays %s, checkpoint %s", plays(), checkpoint())
	}

	// The right one commits both, and every pooled connection is idle.
	if err := rt.commit(ctx, r, 5, events, 7, nil); err != nil {
		t.Fatal(err)
	}
	if plays() != "2" || checkpoint() != "7" {
		t.Fatalf("plays %s, checkpoint %s; want 2 and 7", plays(), checkpoint())
	}
	var stuck int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&stuck); err != nil {
		t.Fatal(err)
	}
	if stuck != 0 {
		t.Fatalf("%d connections left inside a transaction", stuck)
	}
}
