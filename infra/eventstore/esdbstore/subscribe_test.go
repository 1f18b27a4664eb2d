package esdbstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hustmusik/backend/infra/eventstore"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The follower is tested against a scripted server: a $all log that reads
// page through, and one script per subscription (the messages it sends,
// then a drop or silence). The KurrentDB suite (esdbstore_test.go) checks
// the same behaviour against a real server when EVENTSTORE_URL is set.

// ev makes a $all event at position pos (commit = prepare, as KurrentDB
// writes events since version 20).
func ev(pos uint64, stream, typ string) *esdb.ResolvedEvent {
	return &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    typ,
		ContentType:  "application/json",
		StreamID:     stream,
		EventNumber:  pos / 100,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate:  time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC),
		Data:         []byte(fmt.Sprintf(`{"n":%d}`, pos)),
		UserMetadata: []byte(`{"occurred_at":"2024-05-17T10:30:00Z","actor_id":"user-1","schema_version":1}`),
	}}
}

func appeared(e *esdb.ResolvedEvent) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{EventAppeared: e}
}

func checkpoint(pos uint64) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{CheckPointReached: &esdb.Position{Commit: pos, Prepare: pos}}
}

func dropped(err error) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: err}}
}

// script is one subscription's life. With no drop at the end it stays
// silent until closed.
type script struct {
	subscribeErr error // subscribe itself fails
	msgs         []*esdb.SubscriptionEvent
	appendAtEnd  []*esdb.ResolvedEvent // written to the log once msgs are sent (while the subscriber is away)
}

type fakeSource struct {
	mu         sync.Mutex
	log        []*esdb.ResolvedEvent
	readErrs   []error // the next readAll calls fail with these, in order
	scripts    []script
	subFroms   []esdb.AllPosition
	readFroms  []esdb.AllPosition
	openFeeds  int
	subscribed chan struct{} // receives once per subscribe call
}

func newFake(log ...*esdb.ResolvedEvent) *fakeSource {
	return &fakeSource{log: log, subscribed: make(chan struct{}, 100)}
}

func (f *fakeSource) readAll(ctx context.Context, from esdb.AllPosition, n int) ([]*esdb.ResolvedEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readFroms = append(f.readFroms, from)
	if len(f.readErrs) > 0 {
		err := f.readErrs[0]
		f.readErrs = f.readErrs[1:]
		return nil, err
	}
	var start uint64
	if p, ok := from.(esdb.Position); ok {
		start = p.Commit
	}
	var out []*esdb.ResolvedEvent
	for _, e := range f.log {
		if e.Event.Position.Commit >= start && len(out) < n {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeSource) subscribe(ctx context.Context, from esdb.AllPosition, opts esdb.SubscribeToAllOptions) (feed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subFroms = append(f.subFroms, from)
	f.subscribed <- struct{}{}
	var sc script
	if len(f.scripts) > 0 {
		sc = f.scripts[0]
		f.scripts = f.scripts[1:]
	}
	if sc.subscribeErr != nil {
		return nil, sc.subscribeErr
	}
	f.openFeeds++
	return &fakeFeed{src: f, sc: sc, closed: make(chan struct{})}, nil
}

type fakeFeed struct {
	src    *fakeSource
	sc     script
	next   int
	once   sync.Once
	closed chan struct{}
}

func (f *fakeFeed) recv() *esdb.SubscriptionEvent {
	if f.next < len(f.sc.msgs) {
		m := f.sc.msgs[f.next]
		f.next++
		if f.next == len(f.sc.msgs) {
			f.src.mu.Lock()
			f.src.log = append(f.src.log, f.sc.appendAtEnd...)
			f.src.mu.Unlock()
		}
		return m
	}
	<-f.closed
	return dropped(status.Error(codes.Canceled, "closed"))
}

func (f *fakeFeed) close() {
	f.once.Do(func() {
		close(f.closed)
		f.src.mu.Lock()
		f.src.openFeeds--
		f.src.mu.Unlock()
	})
}

func testConfig() Config {
	cfg := Config{URL: "esdb://fake:2113", ScanPageSize: 3, RetryMinBackoff: time.Millisecond, RetryMaxBackoff: 4 * time.Millisecond}
	cfg.setDefaults()
	return cfg
}

// drain collects a subscription's batches, checking the port's promises on
// the way: batch size, strictly increasing event positions, events within
// their batch's checkpoint, checkpoints never going back, and every
// checkpoint-only batch moving the checkpoint forward.
type drained struct {
	mu      sync.Mutex
	batches []eventstore.Batch
	events  []eventstore.RecordedEvent
	problem error
	done    chan struct{}
}

func drain(sub eventstore.Subscription, after uint64, batchSize int) *drained {
	d := &drained{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		last, cp := after, after
		for b := range sub.Batches() {
			d.mu.Lock()
			if d.problem == nil {
				switch {
				case len(b.Events) > batchSize:
					d.problem = fmt.Errorf("batch of %d events, size %d", len(b.Events), batchSize)
				case b.Checkpoint < cp:
					d.problem = fmt.Errorf("checkpoint went back from %d to %d", cp, b.Checkpoint)
				case len(b.Events) == 0 && b.Checkpoint <= cp:
					d.problem = fmt.Errorf("checkpoint-only batch repeats checkpoint %d", b.Checkpoint)
				}
				for _, e := range b.Events {
					if e.Position <= last || e.Position > b.Checkpoint {
						d.problem = fmt.Errorf("event at %d after %d, batch checkpoint %d", e.Position, last, b.Checkpoint)
					}
					last = e.Position
				}
			}
			cp = b.Checkpoint
			d.batches = append(d.batches, b)
			d.events = append(d.events, b.Events...)
			d.mu.Unlock()
		}
	}()
	return d
}

func (d *drained) waitFor(t *testing.T, what string, cond func(positions []uint64, checkpoint uint64) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		var positions []uint64
		for _, e := range d.events {
			positions = append(positions, e.Position)
		}
		var cp uint64
		if len(d.batches) > 0 {
			cp = d.batches[len(d.batches)-1].Checkpoint
		}
		problem := d.problem
		d.mu.Unlock()
		if problem != nil {
			t.Fatal(problem)
		}
		if cond(positions, cp) {
			return
		}
		select {
		case <-d.done:
			t.Fatalf("subscription closed before %s: positions %v, checkpoint %d", what, positions, cp)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: positions %v, checkpoint %d", what, positions, cp)
		}
		time.Sleep(time.Millisecond)
	}
}

func (d *drained) positions() []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []uint64
	for _, e := range d.events {
		out = append(out, e.Position)
	}
	return out
}

func follow(t *testing.T, src *fakeSource, after uint64, filter eventstore.Filter, batchSize int) (*subscription, *drained, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := startFollower(ctx, testConfig(), src, quietLogger(), after, filter, batchSize)
	d := drain(sub, after, batchSize)
	t.Cleanup(func() {
		cancel()
		<-d.done
	})
	return sub, d, cancel
}

func TestFollowerCatchesUpThenFollowsLive(t *testing.T) {
	src := newFake(
		ev(100, "song-1", "SongAdded"),
		ev(200, "song-1", "SongRenamed"),
		ev(250, "$stats-0.0.0.0:2113", "$statsCollected"),
		ev(300, "song-2", "SongAdded"),
		ev(400, "song-3", "SongAdded"),
		ev(500, "user-1", "UserRegistered"),
	)
	src.scripts = []script{{msgs: []*esdb.SubscriptionEvent{
		appeared(ev(600, "song-4", "SongAdded")),
		appeared(ev(700, "song-4", "SongRenamed")), // the server-side filter would not send it; the client checks too
		checkpoint(750),
		appeared(ev(800, "song-5", "SongAdded")),
		checkpoint(900),
	}}}
	_, d, _ := follow(t, src, 0, eventstore.Filter{EventTypes: []string{"SongAdded"}}, 2)
	d.waitFor(t, "every SongAdded and the last checkpoint", func(p []uint64, cp uint64) bool { return len(p) >= 5 && cp >= 900 })
	if got, want := d.positions(), []uint64{100, 300, 400, 600, 800}; !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	// Catch-up paged from the start; the live subscription began after the
	// last event scanned, with the server-side filter.
	if _, ok := src.readFroms[0].(esdb.Start); !ok {
		t.Errorf("first page read from %#v, want the start", src.readFroms[0])
	}
	if want := []esdb.AllPosition{esdb.Position{Commit: 500, Prepare: 500}}; !reflect.DeepEqual(src.subFroms, want) {
		t.Errorf("subscribed from %v, want %v", src.subFroms, want)
	}
}

func TestFollowerResumesAfterDropsWithoutRepeatsOrGaps(t *testing.T) {
	src := newFake(ev(100, "song-1", "SongAdded"), ev(200, "song-1", "SongAdded"))
	src.scripts = []script{
		{
			msgs: []*esdb.SubscriptionEvent{
				appeared(ev(300, "song-1", "SongAdded")),
				appeared(ev(400, "song-1", "SongAdded")),
				dropped(status.Error(codes.Unavailable, "leader changed")),
			},
			// Written while the subscriber reconnects (300 and 400 too: the log has them).
			appendAtEnd: []*esdb.ResolvedEvent{ev(300, "song-1", "SongAdded"), ev(400, "song-1", "SongAdded"), ev(500, "song-1", "SongAdded")},
		},
		{subscribeErr: status.Error(codes.Unavailable, "connection refused")},
		{
			// A server resending what the subscriber already has must not repeat it.
			msgs: []*esdb.SubscriptionEvent{
				appeared(ev(400, "song-1", "SongAdded")),
				appeared(ev(500, "song-1", "SongAdded")),
				appeared(ev(600, "song-1", "SongAdded")),
			},
		},
	}
	_, d, _ := follow(t, src, 100, eventstore.Filter{}, 10)
	d.waitFor(t, "the event after the drops", func(p []uint64, _ uint64) bool { return len(p) > 0 && p[len(p)-1] == 600 })
	if got, want := d.positions(), []uint64{200, 300, 400, 500, 600}; !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %v, want %v (after 100, each once)", got, want)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	want := []esdb.AllPosition{
		esdb.Position{Commit: 200, Prepare: 200}, // after catch-up
		esdb.Position{Commit: 500, Prepare: 500}, // after the drop: paged 500, then resubscribed
		esdb.Position{Commit: 500, Prepare: 500}, // retried after the refused subscribe
	}
	if !reflect.DeepEqual(src.subFroms, want) {
		t.Errorf("subscribed from %v, want %v", src.subFroms, want)
	}
	if want := (esdb.Position{Commit: 400, Prepare: 400}); !reflect.DeepEqual(src.readFroms[len(src.readFroms)-1], want) && !containsPos(src.readFroms, want) {
		t.Errorf("after the drop, paging did not start from the last delivered event 400: %v", src.readFroms)
	}
}

func containsPos(ps []esdb.AllPosition, p esdb.AllPosition) bool {
	for _, q := range ps {
		if reflect.DeepEqual(p, q) {
			return true
		}
	}
	return false
}

func TestFollowerSendsCheckpointOnlyBatches(t *testing.T) {
	src := newFake(ev(100, "song-1", "SongAdded"))
	src.scripts = []script{{msgs: []*esdb.SubscriptionEvent{
		checkpoint(150),
		checkpoint(150), // the server may repeat one
		checkpoint(120), // or send one behind
		checkpoint(230),
	}}}
	_, d, _ := follow(t, src, 0, eventstore.Filter{EventTypes: []string{"NeverWritten"}}, 10)
	d.waitFor(t, "checkpoint 230", func(_ []uint64, cp uint64) bool { return cp == 230 })
	time.Sleep(30 * time.Millisecond) // nothing more may come
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.events) != 0 {
		t.Fatalf("%d events passed a filter nothing matches", len(d.events))
	}
	var cps []uint64
	for _, b := range d.batches {
		cps = append(cps, b.Checkpoint)
	}
	// 100 from catch-up; 150 and 230 live, each once (drain checks order).
	if cps[0] != 100 || cps[len(cps)-1] != 230 {
		t.Fatalf("checkpoints %v", cps)
	}
}

func TestFollowerPagesAgainWhenFallenBehind(t *testing.T) {
	src := newFake(ev(100, "a-1", "A"))
	src.scripts = []script{
		{
			msgs:        []*esdb.SubscriptionEvent{appeared(ev(200, "a-1", "A")), {FellBehind: &esdb.Subscription{}}},
			appendAtEnd: []*esdb.ResolvedEvent{ev(200, "a-1", "A"), ev(300, "a-1", "A"), ev(400, "a-1", "A"), ev(500, "a-1", "A")},
		},
		{msgs: []*esdb.SubscriptionEvent{appeared(ev(600, "a-1", "A"))}},
	}
	_, d, _ := follow(t, src, 0, eventstore.Filter{}, 2)
	d.waitFor(t, "600", func(p []uint64, _ uint64) bool { return len(p) > 0 && p[len(p)-1] == 600 })
	if got, want := d.positions(), []uint64{100, 200, 300, 400, 500, 600}; !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.subFroms) != 2 || !reflect.DeepEqual(src.subFroms[1], esdb.Position{Commit: 500, Prepare: 500}) {
		t.Fatalf("subscribed from %v, want a second subscription after the paged 500", src.subFroms)
	}
}

func TestFollowerRetriesReadsWithBackoff(t *testing.T) {
	src := newFake(ev(100, "a-1", "A"), ev(200, "a-1", "A"))
	src.readErrs = []error{status.Error(codes.Unavailable, "down"), status.Error(codes.Unavailable, "down"), status.Error(codes.DeadlineExceeded, "slow")}
	_, d, _ := follow(t, src, 0, eventstore.Filter{}, 10)
	d.waitFor(t, "both events", func(p []uint64, _ uint64) bool { return len(p) == 2 })
}

func TestFollowerStopsOnPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  *fakeSource
	}{
		{"access denied on drop", func() *fakeSource {
			s := newFake()
			s.scripts = []script{{msgs: []*esdb.SubscriptionEvent{dropped(status.Error(codes.PermissionDenied, "access denied"))}}}
			return s
		}()},
		{"unreadable metadata", func() *fakeSource {
			bad := ev(100, "a-1", "A")
			bad.Event.UserMetadata = []byte(`not json`)
			return newFake(bad)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub, d, _ := follow(t, tc.src, 0, eventstore.Filter{}, 10)
			select {
			case <-d.done:
			case <-time.After(5 * time.Second):
				t.Fatal("subscription still open after a permanent error")
			}
			if sub.Err() == nil {
				t.Fatal("Err() is nil after a permanent error")
			}
		})
	}
}

func TestFollowerClosesOnCancel(t *testing.T) {
	src := newFake(ev(100, "a-1", "A"))
	sub, d, cancel := follow(t, src, 0, eventstore.Filter{}, 10)
	d.waitFor(t, "the event", func(p []uint64, _ uint64) bool { return len(p) == 1 })
	<-src.subscribed
	cancel()
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		t.Fatal("channel open after cancel")
	}
	if err := sub.Err(); err != nil {
		t.Fatalf("Err after cancel = %v, want nil", err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.openFeeds != 0 {
		t.Fatalf("%d subscriptions left open", src.openFeeds)
	}
}

func TestFollowerBatchesUpToSize(t *testing.T) {
	var msgs []*esdb.SubscriptionEvent
	for p := uint64(200); p <= 1100; p += 100 {
		msgs = append(msgs, appeared(ev(p, "a-1", "A")))
	}
	src := newFake(ev(100, "a-1", "A"))
	src.scripts = []script{{msgs: msgs}}
	_, d, _ := follow(t, src, 0, eventstore.Filter{}, 4)
	d.waitFor(t, "all 11 events", func(p []uint64, _ uint64) bool { return len(p) == 11 })
	d.mu.Lock()
	defer d.mu.Unlock()
	// The live burst arrives together: full batches of 4, not one event each.
	if len(d.batches) > 5 {
		t.Fatalf("%d batches for 11 events of size 4: %v", len(d.batches), d.batches)
	}
}
