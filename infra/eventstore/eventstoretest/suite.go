// Package eventstoretest is the conformance suite of the event store port:
// every implementation of eventstore.Store must pass Run. The suite uses
// unique stream names and event types per subtest, so it also works against
// a server shared with other tests (events of others may be in the log).
//
// Contract details the suite pins down beyond the port's comments:
//   - appending no events is an error wrapping domain.ErrValidation;
//   - a re-append of event ids already in the stream returns the original
//     AppendResult, even after the stream moved on;
//
// What an event id does in ANOTHER stream is left to the implementation:
// PostgreSQL refuses it (event ids are unique in the whole log); KurrentDB
// deduplicates ids per stream only. Nothing here relies on either.
package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// waitTimeout bounds every wait for a subscription; generous because the
// machine running the suite may be busy.
const waitTimeout = 20 * time.Second

// Run runs the suite; newStore returns a store for one subtest (fresh or
// shared) and arranges its cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s eventstore.Store)
	}{
		{"AppendAndReadBack", testAppendAndReadBack},
		{"ExpectedRevision", testExpectedRevision},
		{"IdempotentReappend", testIdempotentReappend},
		{"EmptyAppendIsInvalid", testEmptyAppend},
		{"ReadStreamPaging", testReadStreamPaging},
		{"ReadStreamTail", testReadStreamTail},
		{"ReadAllFilters", testReadAllFilters},
		{"ReadAllCheckpoint", testReadAllCheckpoint},
		{"Head", testHead},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"ConcurrentWritersWithSubscriber", testConcurrentWritersWithSubscriber},
		{"ResumeFromCheckpoint", testResumeFromCheckpoint},
		{"FilteredSubscription", testFilteredSubscription},
		{"CheckpointOnlyBatches", testCheckpointOnlyBatches},
		{"SubscriptionClosesOnCancel", testSubscriptionClosesOnCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// unique returns a name no other subtest or run uses.
func unique(prefix string) string {
	return prefix + "-" + uuid.NewString()
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type payload struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// newEvent makes an event with a distinct id, a payload and full metadata.
func newEvent(eventType string, n int) eventstore.EventData {
	data, _ := json.Marshal(payload{N: n, Text: fmt.Sprintf("Sơn Tùng M-TP #%d \"quoted\"", n)})
	return eventstore.EventData{
		ID:   uuid.New(),
		Type: eventType,
		Data: data,
		Metadata: eventstore.Metadata{
			OccurredAt:    time.Date(2024, 5, 17, 10, 30, 0, 123456000, time.UTC).Add(time.Duration(n) * time.Second),
			ActorID:       "user-" + uuid.NewString(),
			CorrelationID: uuid.NewString(),
			CausationID:   uuid.NewString(),
			RequestID:     fmt.Sprintf("req-%d", n),
			SchemaVersion: 2,
			Source:        "api",
		},
	}
}

func events(eventType string, from, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = newEvent(eventType, from+i)
	}
	return out
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, expected eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctxFor(t), stream, expected, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s (%s): %v", len(evs), stream, expected, err)
	}
	return res
}

func readStream(t *testing.T, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	got, err := s.ReadStream(ctxFor(t), stream, 0, 10000)
	if err != nil {
		t.Fatalf("read stream %s: %v", stream, err)
	}
	return got
}

// checkSame compares an appended event with its recorded form.
func checkSame(t *testing.T, want eventstore.EventData, got eventstore.RecordedEvent) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type {
		t.Errorf("event %d: got id %s type %s, want %s %s", got.Revision, got.ID, got.Type, want.ID, want.Type)
	}
	var wantData, gotData any
	if err := json.Unmarshal(want.Data, &wantData); err != nil {
		t.Fatalf("test data: %v", err)
	}
	if err := json.Unmarshal(got.Data, &gotData); err != nil {
		t.Fatalf("event %s: data is not JSON: %v (%s)", got.ID, err, got.Data)
	}
	if !reflect.DeepEqual(wantData, gotData) {
		t.Errorf("event %s: data %s, want %s", got.ID, got.Data, want.Data)
	}
	wm, gm := want.Metadata, got.Metadata
	if !gm.OccurredAt.Equal(wm.OccurredAt) {
		t.Errorf("event %s: occurred_at %s, want %s", got.ID, gm.OccurredAt, wm.OccurredAt)
	}
	wm.OccurredAt, gm.OccurredAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(wm, gm) {
		t.Errorf("event %s: metadata %+v, want %+v", got.ID, gm, wm)
	}
	if got.RecordedAt.IsZero() {
		t.Errorf("event %s: no RecordedAt", got.ID)
	}
}

func testAppendAndReadBack(t *testing.T, s eventstore.Store) {
	stream := unique("song")
	first := events("SongAdded", 0, 3)
	res := mustAppend(t, s, stream, eventstore.NoStream(), first...)
	if res.NextExpectedRevision != 2 {
		t.Errorf("NextExpectedRevision %d, want 2", res.NextExpectedRevision)
	}
	more := events("SongRenamed", 3, 2)
	res2 := mustAppend(t, s, stream, eventstore.Exact(2), more...)
	if res2.NextExpectedRevision != 4 {
		t.Errorf("NextExpectedRevision %d, want 4", res2.NextExpectedRevision)
	}
	if res2.Position <= res.Position {
		t.Errorf("second append at position %d, not after the first's %d", res2.Position, res.Position)
	}

	got := readStream(t, s, stream)
	want := append(first, more...)
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.StreamID != stream {
			t.Errorf("event %d: stream %q, want %q", i, e.StreamID, stream)
		}
		if e.Revision != uint64(i) {
			t.Errorf("event %d: revision %d", i, e.Revision)
		}
		if e.Position == 0 || (i > 0 && e.Position <= got[i-1].Position) {
			t.Errorf("event %d: position %d does not follow %d", i, e.Position, got[max(i-1, 0)].Position)
		}
		checkSame(t, want[i], e)
	}
	if got[2].Position != res.Position || got[4].Position != res2.Position {
		t.Errorf("positions %d and %d, append results said %d and %d", got[2].Position, got[4].Position, res.Position, res2.Position)
	}
}

func testExpectedRevision(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("user")
	missing := unique("user")
	mustAppend(t, s, stream, eventstore.NoStream(), events("UserRegistered", 0, 2)...) // revisions 0, 1

	for _, tc := range []struct {
		name     string
		stream   string
		expected eventstore.ExpectedRevision
		wantErr  bool
	}{
		{"no stream on an existing stream", stream, eventstore.NoStream(), true},
		{"exact, too low", stream, eventstore.Exact(0), true},
		{"exact, too high", stream, eventstore.Exact(5), true},
		{"exact on a missing stream", missing, eventstore.Exact(0), true},
		{"exact, right", stream, eventstore.Exact(1), false},
		{"any on an existing stream", stream, eventstore.Any(), false},
		{"any on a missing stream", missing, eventstore.Any(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.ReadStream(ctx, tc.stream, 0, 1000)
			res, err := s.Append(ctx, tc.stream, tc.expected, newEvent("UserRenamed", 9))
			after, _ := s.ReadStream(ctx, tc.stream, 0, 1000)
			if tc.wantErr {
				if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					t.Fatalf("err = %v, want ErrWrongExpectedRevision", err)
				}
				if len(after) != len(before) {
					t.Fatalf("a refused append wrote: %d events before, %d after", len(before), len(after))
				}
				return
			}
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if len(after) != len(before)+1 || res.NextExpectedRevision != uint64(len(before)) {
				t.Fatalf("%d events before, %d after, NextExpectedRevision %d", len(before), len(after), res.NextExpectedRevision)
			}
		})
	}
}

func testIdempotentReappend(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("order")
	ab := events("OrderCreated", 0, 2)
	c := newEvent("OrderPaid", 2)
	r1 := mustAppend(t, s, stream, eventstore.NoStream(), ab...)
	r2 := mustAppend(t, s, stream, eventstore.Exact(1), c)

	// Retried requests, after the stream moved on: the original answers.
	again1, err := s.Append(ctx, stream, eventstore.NoStream(), ab...)
	if err != nil {
		t.Fatalf("re-append of the first events: %v", err)
	}
	if again1 != r1 {
		t.Errorf("re-append answered %+v, the original %+v", again1, r1)
	}
	again2, err := s.Append(ctx, stream, eventstore.Exact(1), c)
	if err != nil {
		t.Fatalf("re-append of the last event: %v", err)
	}
	if again2 != r2 {
		t.Errorf("re-append answered %+v, the original %+v", again2, r2)
	}
	if got := readStream(t, s, stream); len(got) != 3 {
		t.Fatalf("stream has %d events after re-appends, want 3", len(got))
	}
}

func testEmptyAppend(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("artist")
	if _, err := s.Append(ctx, stream, eventstore.Any()); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("append of no events: err = %v, want ErrValidation", err)
	}
	if _, err := s.ReadStream(ctx, stream, 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("err = %v, want ErrStreamNotFound", err)
	}
}

func testReadStreamPaging(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("collection")
	want := events("SongAddedToCollection", 0, 10)
	mustAppend(t, s, stream, eventstore.NoStream(), want[:4]...)
	mustAppend(t, s, stream, eventstore.Exact(3), want[4:]...)

	var got []eventstore.RecordedEvent
	pages := 0
	for from := uint64(0); ; {
		page, err := s.ReadStream(ctx, stream, from, 3)
		if err != nil {
			t.Fatalf("page from %d: %v", from, err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d events, max 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		if page[0].Revision != from {
			t.Fatalf("page from %d starts at revision %d", from, page[0].Revision)
		}
		pages++
		got = append(got, page...)
		from = page[len(page)-1].Revision + 1
	}
	if pages != 4 || len(got) != 10 {
		t.Fatalf("%d pages, %d events; want 4 pages, 10 events", pages, len(got))
	}
	for i := range got {
		checkSame(t, want[i], got[i])
	}
	if page, err := s.ReadStream(ctx, stream, 10, 5); err != nil || len(page) != 0 {
		t.Fatalf("reading past the end: %d events, err %v; want none and no error", len(page), err)
	}
	if _, err := s.ReadStream(ctx, unique("collection"), 0, 5); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("missing stream: err = %v, want ErrStreamNotFound", err)
	}
}

func idsOf(evs []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func dataIDs(evs ...eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// readAllFrom pages through ReadAll after pos with filter up to (at least)
// position until, keeping the events whose stream starts with keep.
func readAllFrom(t *testing.T, s eventstore.Store, after, until uint64, pageSize int, filter eventstore.Filter, keep string) []eventstore.RecordedEvent {
	t.Helper()
	ctx := ctxFor(t)
	var out []eventstore.RecordedEvent
	pos := after
	for pos < until {
		b, err := s.ReadAll(ctx, pos, pageSize, filter)
		if err != nil {
			t.Fatalf("read all after %d: %v", pos, err)
		}
		if len(b.Events) > pageSize {
			t.Fatalf("read all returned %d events, max %d", len(b.Events), pageSize)
		}
		for _, e := range b.Events {
			if e.Position <= pos || e.Position > b.Checkpoint {
				t.Fatalf("event at %d outside (%d, %d]", e.Position, pos, b.Checkpoint)
			}
			if !filter.Matches(e.StreamID, e.Type) {
				t.Fatalf("event %s of %s passed filter %+v", e.Type, e.StreamID, filter)
			}
			if len(e.StreamID) >= len(keep) && e.StreamID[:len(keep)] == keep {
				out = append(out, e)
			}
		}
		if b.Checkpoint <= pos {
			t.Fatalf("read all after %d: checkpoint %d did not advance though the log reaches %d", pos, b.Checkpoint, until)
		}
		pos = b.Checkpoint
	}
	return out
}

func testReadAllFilters(t *testing.T, s eventstore.Store) {
	tag := uuid.NewString()[:8]
	prefix := "rf" + tag
	typeA, typeB, typeC := "Played"+tag, "Liked"+tag, "Shared"+tag
	sa, sb, sc := prefix+"a-1", prefix+"b-1", prefix+"a-2"
	start := head(t, s)

	a1 := events(typeA, 0, 2)
	b1 := events(typeB, 2, 1)
	mustAppend(t, s, sa, eventstore.NoStream(), append(a1, b1...)...)
	a2 := events(typeA, 3, 1)
	mustAppend(t, s, sb, eventstore.NoStream(), a2...)
	c1 := events(typeC, 4, 2)
	last := mustAppend(t, s, sc, eventstore.NoStream(), c1...)

	for _, tc := range []struct {
		name   string
		filter eventstore.Filter
		want   []eventstore.EventData
	}{
		{"everything", eventstore.Filter{}, concat(a1, b1, a2, c1)},
		{"one type", eventstore.Filter{EventTypes: []string{typeA}}, concat(a1, a2)},
		{"two types", eventstore.Filter{EventTypes: []string{typeC, typeB}}, concat(b1, c1)},
		{"stream prefix", eventstore.Filter{StreamPrefixes: []string{prefix + "a-"}}, concat(a1, b1, c1)},
		{"two prefixes", eventstore.Filter{StreamPrefixes: []string{prefix + "b-", sc}}, concat(a2, c1)},
		{"type and prefix", eventstore.Filter{EventTypes: []string{typeA}, StreamPrefixes: []string{prefix + "a-"}}, a1},
		{"no match", eventstore.Filter{EventTypes: []string{"Nothing" + tag}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pageSize := range []int{1, 2, 100} {
				got := readAllFrom(t, s, start, last.Position, pageSize, tc.filter, prefix)
				if !reflect.DeepEqual(idsOf(got), dataIDs(tc.want...)) {
					t.Fatalf("page size %d: got %v, want %v", pageSize, idsOf(got), dataIDs(tc.want...))
				}
				for i := 1; i < len(got); i++ {
					if got[i].Position <= got[i-1].Position {
						t.Fatalf("positions out of order: %d then %d", got[i-1].Position, got[i].Position)
					}
				}
			}
		})
	}
}

func concat(parts ...[]eventstore.EventData) []eventstore.EventData {
	var out []eventstore.EventData
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func testReadAllCheckpoint(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	tag := uuid.NewString()[:8]
	typeA, typeB := "Followed"+tag, "Unfollowed"+tag
	stream := unique("artist")
	start := head(t, s)
	a := newEvent(typeA, 0)
	ra := mustAppend(t, s, stream, eventstore.NoStream(), a)
	last := mustAppend(t, s, stream, eventstore.Exact(0), events(typeB, 1, 3)...)

	// Not full: the checkpoint passes the non-matching events after the
	// last match, up to the head.
	b, err := s.ReadAll(ctx, start, 10, eventstore.Filter{EventTypes: []string{typeA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || b.Events[0].ID != a.ID {
		t.Fatalf("got %v, want only %s", idsOf(b.Events), a.ID)
	}
	if b.Checkpoint < last.Position {
		t.Fatalf("checkpoint %d does not pass the filtered-out events up to %d", b.Checkpoint, last.Position)
	}
	// Full: the checkpoint is the last returned event (more may follow).
	b, err = s.ReadAll(ctx, start, 1, eventstore.Filter{StreamPrefixes: []string{stream}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || b.Checkpoint != ra.Position {
		t.Fatalf("full batch: %d events, checkpoint %d; want 1 event and checkpoint %d", len(b.Events), b.Checkpoint, ra.Position)
	}
	// Nothing matches: the checkpoint still advances.
	b, err = s.ReadAll(ctx, start, 10, eventstore.Filter{EventTypes: []string{"Nothing" + tag}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 0 || b.Checkpoint < last.Position {
		t.Fatalf("no match: %d events, checkpoint %d; want none and checkpoint >= %d", len(b.Events), b.Checkpoint, last.Position)
	}
	// After the head: nothing, and the checkpoint does not go back.
	h := head(t, s)
	b, err = s.ReadAll(ctx, h, 10, eventstore.Filter{StreamPrefixes: []string{stream}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 0 || b.Checkpoint < h {
		t.Fatalf("after the head %d: %d events, checkpoint %d", h, len(b.Events), b.Checkpoint)
	}
}

func head(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	h, err := s.Head(ctxFor(t))
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return h
}

func testHead(t *testing.T, s eventstore.Store) {
	before := head(t, s)
	res := mustAppend(t, s, unique("listens"), eventstore.Any(), events("ListenRecorded", 0, 3)...)
	if res.Position <= before {
		t.Fatalf("appended at %d, not after the head %d", res.Position, before)
	}
	if after := head(t, s); after < res.Position {
		t.Fatalf("head %d is before the last append's position %d", after, res.Position)
	}
}

func testOptimisticConcurrency(t *testing.T, s eventstore.Store) {
	ctx := ctxFor(t)
	stream := unique("collection")
	const writers = 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		appended  []uuid.UUID
	)
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEvent("SongAddedToCollection", w)
			for attempt := 0; attempt < 1000; attempt++ {
				expected := eventstore.NoStream()
				evs, err := s.ReadStream(ctx, stream, 0, 1000)
				switch {
				case errors.Is(err, eventstore.ErrStreamNotFound):
				case err != nil:
					errs <- err
					return
				case len(evs) == 0:
					errs <- errors.New("read stream from revision 0: no events and no error")
					return
				default:
					expected = eventstore.Exact(evs[len(evs)-1].Revision)
				}
				_, err = s.Append(ctx, stream, expected, e)
				if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				appended = append(appended, e.ID)
				mu.Unlock()
				return
			}
			errs <- fmt.Errorf("writer %d: no success in 1000 attempts", w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := readStream(t, s, stream)
	if len(got) != writers {
		t.Fatalf("stream has %d events, want %d (lost or duplicated updates)", len(got), writers)
	}
	if !sameSet(idsOf(got), appended) {
		t.Fatalf("stream holds %v, writers appended %v", idsOf(got), appended)
	}
	for i, e := range got {
		if e.Revision != uint64(i) {
			t.Fatalf("event %d has revision %d", i, e.Revision)
		}
	}
	t.Logf("%d conflicts retried", conflicts)
}

func sameSet(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	as := append([]uuid.UUID(nil), a...)
	bs := append([]uuid.UUID(nil), b...)
	less := func(s []uuid.UUID) func(i, j int) bool {
		return func(i, j int) bool { return s[i].String() < s[j].String() }
	}
	sort.Slice(as, less(as))
	sort.Slice(bs, less(bs))
	return reflect.DeepEqual(as, bs)
}

// collector drains a subscription in the background, checking as it goes
// that batches respect the size, positions strictly increase, every event
// passes the filter and checkpoints never go back.
type collector struct {
	mu          sync.Mutex
	events      []eventstore.RecordedEvent
	batches     []eventstore.Batch
	problem     error
	done        chan struct{}
	subscribeTo eventstore.Subscription
}

func collect(sub eventstore.Subscription, after uint64, filter eventstore.Filter, batchSize int) *collector {
	c := &collector{done: make(chan struct{}), subscribeTo: sub}
	go func() {
		defer close(c.done)
		last, checkpoint := after, after
		for b := range sub.Batches() {
			c.mu.Lock()
			c.batches = append(c.batches, b)
			if len(b.Events) > batchSize && c.problem == nil {
				c.problem = fmt.Errorf("batch of %d events, batch size %d", len(b.Events), batchSize)
			}
			if b.Checkpoint < checkpoint && c.problem == nil {
				c.problem = fmt.Errorf("checkpoint went back from %d to %d", checkpoint, b.Checkpoint)
			}
			for _, e := range b.Events {
				if e.Position <= last && c.problem == nil {
					c.problem = fmt.Errorf("event at position %d delivered after %d", e.Position, last)
				}
				if e.Position > b.Checkpoint && c.problem == nil {
					c.problem = fmt.Errorf("event at %d beyond its batch's checkpoint %d", e.Position, b.Checkpoint)
				}
				if !filter.Matches(e.StreamID, e.Type) && c.problem == nil {
					c.problem = fmt.Errorf("event %s of %s does not pass the filter", e.Type, e.StreamID)
				}
				last = e.Position
				c.events = append(c.events, e)
			}
			checkpoint = b.Checkpoint
			c.mu.Unlock()
		}
	}()
	return c
}

// waitFor waits until cond holds for the events collected so far.
func (c *collector) waitFor(t *testing.T, what string, cond func(evs []eventstore.RecordedEvent, batches []eventstore.Batch) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c.mu.Lock()
		ok := cond(c.events, c.batches)
		n, problem := len(c.events), c.problem
		c.mu.Unlock()
		if problem != nil {
			t.Fatalf("subscription: %v", problem)
		}
		if ok {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("subscription closed (err %v) before %s; %d events seen", c.subscribeTo.Err(), what, n)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %d events seen", what, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *collector) snapshot() ([]eventstore.RecordedEvent, []eventstore.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.RecordedEvent(nil), c.events...), append([]eventstore.Batch(nil), c.batches...)
}

func subscribe(t *testing.T, s eventstore.Store, after uint64, filter eventstore.Filter, batchSize int) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := s.Subscribe(ctx, after, filter, batchSize)
	if err != nil {
		cancel()
		t.Fatalf("subscribe: %v", err)
	}
	c := collect(sub, after, filter, batchSize)
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

func countIn(evs []eventstore.RecordedEvent, ids map[uuid.UUID]bool) int {
	n := 0
	for _, e := range evs {
		if ids[e.ID] {
			n++
		}
	}
	return n
}

func testConcurrentWritersWithSubscriber(t *testing.T, s eventstore.Store) {
	const (
		writers   = 8
		perWriter = 200
	)
	prefix := "cw" + uuid.NewString()[:8] + "-"
	filter := eventstore.Filter{StreamPrefixes: []string{prefix}}
	// One subscriber scans the whole log from its start, one follows
	// everything from the current head.
	fromStart := subscribe(t, s, 0, filter, 50)
	fromHead := subscribe(t, s, head(t, s), eventstore.Filter{}, 64)

	ctx := ctxFor(t)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[uuid.UUID]bool{}
	)
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("%s%d", prefix, w)
			expected := eventstore.NoStream()
			for i := 0; i < perWriter; {
				n := 1 + i%3 // appends of 1 to 3 events
				if i+n > perWriter {
					n = perWriter - i
				}
				evs := events("ListenRecorded", i, n)
				res, err := s.Append(ctx, stream, expected, evs...)
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				expected = eventstore.Exact(res.NextExpectedRevision)
				mu.Lock()
				for _, e := range evs {
					ids[e.ID] = true
				}
				mu.Unlock()
				i += n
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := writers * perWriter
	for name, c := range map[string]*collector{"from start": fromStart, "from head": fromHead} {
		c.waitFor(t, fmt.Sprintf("%s: all %d events", name, total), func(evs []eventstore.RecordedEvent, _ []eventstore.Batch) bool {
			return countIn(evs, ids) >= total
		})
		evs, _ := c.snapshot()
		seen := map[uuid.UUID]int{}
		for _, e := range evs {
			if ids[e.ID] {
				seen[e.ID]++
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("%s: event %s delivered %d times", name, id, n)
			}
		}
		if len(seen) != total {
			t.Fatalf("%s: %d distinct events, want %d", name, len(seen), total)
		}
	}
	// Per stream, the subscriber saw revisions 0.. in order.
	evs, _ := fromStart.snapshot()
	next := map[string]uint64{}
	for _, e := range evs {
		if e.Revision != next[e.StreamID] {
			t.Fatalf("stream %s: revision %d delivered, want %d", e.StreamID, e.Revision, next[e.StreamID])
		}
		next[e.StreamID]++
	}
}

func testResumeFromCheckpoint(t *testing.T, s eventstore.Store) {
	stream := unique("user")
	filter := eventstore.Filter{StreamPrefixes: []string{stream}}
	first := events("UserRenamed", 0, 5)
	mustAppend(t, s, stream, eventstore.NoStream(), first...)
	got := readStream(t, s, stream)
	p := got[2].Position

	c := subscribe(t, s, p, filter, 2)
	c.waitFor(t, "the two events after the checkpoint", func(evs []eventstore.RecordedEvent, _ []eventstore.Batch) bool {
		return len(evs) >= 2
	})
	// A later event shows whether anything else (a repeat, an earlier event)
	// was queued before it.
	marker := newEvent("UserRenamed", 5)
	mustAppend(t, s, stream, eventstore.Exact(4), marker)
	c.waitFor(t, "the marker event", func(evs []eventstore.RecordedEvent, _ []eventstore.Batch) bool {
		return len(evs) > 0 && evs[len(evs)-1].ID == marker.ID
	})
	evs, _ := c.snapshot()
	want := []uuid.UUID{first[3].ID, first[4].ID, marker.ID}
	if !reflect.DeepEqual(idsOf(evs), want) {
		t.Fatalf("resumed subscription saw %v, want %v", idsOf(evs), want)
	}
}

func testFilteredSubscription(t *testing.T, s eventstore.Store) {
	tag := uuid.NewString()[:8]
	prefix := "fs" + tag + "-"
	typeA, typeB := "OrderPaid"+tag, "OrderCreated"+tag
	filter := eventstore.Filter{EventTypes: []string{typeA}, StreamPrefixes: []string{prefix}}
	c := subscribe(t, s, head(t, s), filter, 10)

	var want []uuid.UUID
	for i := 0; i < 5; i++ {
		stream := fmt.Sprintf("%s%d", prefix, i)
		a, b := newEvent(typeA, i), newEvent(typeB, i)
		mustAppend(t, s, stream, eventstore.NoStream(), b, a)
		mustAppend(t, s, unique("other"), eventstore.NoStream(), newEvent(typeA, i)) // right type, wrong stream
		want = append(want, a.ID)
	}
	c.waitFor(t, "the five matching events", func(evs []eventstore.RecordedEvent, _ []eventstore.Batch) bool {
		return len(evs) >= 5
	})
	// A matching marker proves nothing else was delivered in between.
	marker := newEvent(typeA, 9)
	mustAppend(t, s, prefix+"9", eventstore.NoStream(), marker)
	c.waitFor(t, "the marker event", func(evs []eventstore.RecordedEvent, _ []eventstore.Batch) bool {
		return len(evs) > 0 && evs[len(evs)-1].ID == marker.ID
	})
	evs, _ := c.snapshot()
	if got := idsOf(evs); !reflect.DeepEqual(got, append(want, marker.ID)) {
		t.Fatalf("filtered subscription saw %v, want %v", got, append(want, marker.ID))
	}
}

func testCheckpointOnlyBatches(t *testing.T, s eventstore.Store) {
	tag := uuid.NewString()[:8]
	filter := eventstore.Filter{EventTypes: []string{"NeverWritten" + tag}}
	c := subscribe(t, s, head(t, s), filter, 10)
	res := mustAppend(t, s, unique("song"), eventstore.NoStream(), events("SongAdded"+tag, 0, 3)...)
	c.waitFor(t, "a checkpoint past the filtered-out events", func(_ []eventstore.RecordedEvent, batches []eventstore.Batch) bool {
		return len(batches) > 0 && batches[len(batches)-1].Checkpoint >= res.Position
	})
	// The same checkpoint is not sent again while the log stands still:
	// every batch moves it forward.
	time.Sleep(1200 * time.Millisecond)
	evs, batches := c.snapshot()
	if len(evs) != 0 {
		t.Fatalf("%d events passed a filter nothing matches", len(evs))
	}
	for i := 1; i < len(batches); i++ {
		if batches[i].Checkpoint <= batches[i-1].Checkpoint {
			t.Fatalf("checkpoint-only batch %d repeats checkpoint %d", i, batches[i].Checkpoint)
		}
	}
}

func testSubscriptionClosesOnCancel(t *testing.T, s eventstore.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := unique("song")
	sub, err := s.Subscribe(ctx, head(t, s), eventstore.Filter{StreamPrefixes: []string{stream}}, 10)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	mustAppend(t, s, stream, eventstore.NoStream(), newEvent("SongAdded", 0))
	select {
	case b, ok := <-sub.Batches():
		if !ok || len(b.Events) != 1 {
			t.Fatalf("first batch: open %v, %d events; want the one event", ok, len(b.Events))
		}
	case <-time.After(waitTimeout):
		t.Fatal("no batch")
	}
	cancel()
	timeout := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-sub.Batches():
			if !ok {
				if err := sub.Err(); err != nil {
					t.Fatalf("Err after cancel = %v, want nil", err)
				}
				return
			}
		case <-timeout:
			t.Fatal("channel still open after the context was cancelled")
		}
	}
}
