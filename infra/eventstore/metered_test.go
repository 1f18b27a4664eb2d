package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMeteredCountsAppendsByTypeAndConflicts(t *testing.T) {
	pool := pgtest.New(t)
	inner, err := pgstore.New(pgstore.Config{}, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inner.Close)
	reg := prometheus.NewRegistry()
	store, err := eventstore.NewMetered(inner, reg)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(typ string) eventstore.EventData {
		return eventstore.EventData{ID: uuid.New(), Type: typ, Data: json.RawMessage(`{}`), Metadata: eventstore.Metadata{SchemaVersion: 1}}
	}
	ctx := context.Background()
	if _, err := store.Append(ctx, "song-1", eventstore.NoStream(), ev("SongAdded"), ev("SongUpdated"), ev("SongUpdated")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "song-1", eventstore.NoStream(), ev("SongDeleted")); !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("second append on a new stream = %v", err)
	}
	// Reads pass through.
	if head, err := store.Head(ctx); err != nil || head != 3 {
		t.Fatalf("head %d, %v", head, err)
	}
	for _, c := range []struct {
		name, label, value string
		want               float64
	}{
		{"hustmusik_events_appended_total", "type", "SongAdded", 1},
		{"hustmusik_events_appended_total", "type", "SongUpdated", 2},
		{"hustmusik_events_appended_total", "type", "SongDeleted", 0},
		{"hustmusik_event_appends_failed_total", "reason", "conflict", 1},
	} {
		if got := counter(t, reg, c.name, c.label, c.value); got != c.want {
			t.Errorf("%s{%s=%q} = %v, want %v", c.name, c.label, c.value, got, c.want)
		}
	}
	if _, err := eventstore.NewMetered(inner, reg); err == nil {
		t.Error("registering the counters twice in one registry succeeded")
	}
}

// counter reads one counter of reg (0 when the series does not exist).
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
