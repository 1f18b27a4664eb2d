package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/eventbus"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) *pgstore.Store {
	t.Helper()
	pool := pgtest.New(t)
	s, err := pgstore.New(pgstore.Config{PollInterval: 50 * time.Millisecond}, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// appendTyped appends one event per type in types, in order, to one stream.
func appendTyped(t *testing.T, s eventstore.Store, types ...string) uint64 {
	t.Helper()
	events := make([]eventstore.EventData, len(types))
	for i, typ := range types {
		events[i] = eventstore.EventData{ID: uuid.New(), Type: typ, Data: json.RawMessage(`{}`),
			Metadata: eventstore.Metadata{OccurredAt: time.Now(), SchemaVersion: 1}}
	}
	res, err := s.Append(context.Background(), "song-"+uuid.NewString(), eventstore.Any(), events...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

func repeat(typ string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = typ
	}
	return out
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return msg
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	return nil
}

// expectBatch checks a message's batch: it starts after `after` and holds
// the events first..last.
func expectBatch(t *testing.T, msg *message.Message, after, first, last uint64) eventstore.Batch {
	t.Helper()
	b, ok := eventbus.BatchFrom(msg)
	if !ok {
		t.Fatal("message carries no batch")
	}
	a, _ := eventbus.AfterFrom(msg)
	if a != after || len(b.Events) == 0 || b.Events[0].Position != first || b.Events[len(b.Events)-1].Position != last {
		t.Fatalf("batch after %d with %d events; want after %d, events %d..%d", a, len(b.Events), after, first, last)
	}
	for i := 1; i < len(b.Events); i++ {
		if b.Events[i].Position != b.Events[i-1].Position+1 {
			t.Fatalf("batch not consecutive at %d", b.Events[i].Position)
		}
	}
	md := msg.Metadata
	if md.Get(eventbus.MetaAfter) != fmt.Sprint(after) || md.Get(eventbus.MetaFirstPosition) != fmt.Sprint(first) ||
		md.Get(eventbus.MetaLastPosition) != fmt.Sprint(last) || md.Get(eventbus.MetaCheckpoint) != fmt.Sprint(b.Checkpoint) ||
		md.Get(eventbus.MetaEvents) != fmt.Sprint(len(b.Events)) {
		t.Errorf("metadata %v does not describe the batch", md)
	}
	return b
}

func TestDeliversBatchesInOrderAndRedeliversAfterNack(t *testing.T) {
	store := newStore(t)
	for range 12 {
		appendTyped(t, store, repeat("SongAdded", 100)...)
	}
	sub, err := eventbus.NewSubscriber(eventbus.Config{BatchSize: 500, NackDelay: 10 * time.Millisecond}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := func(context.Context) (uint64, error) { return 0, nil }
	if err := sub.Register("songs", eventstore.Filter{}, start, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "songs")
	if err != nil {
		t.Fatal(err)
	}

	first := receive(t, ch)
	expectBatch(t, first, 0, 1, 500)
	// Nothing more until the handler acked: order over throughput.
	select {
	case msg := <-ch:
		t.Fatalf("second message %v delivered before the first was acked", msg.Metadata)
	case <-time.After(200 * time.Millisecond):
	}
	first.Ack()

	second := receive(t, ch)
	expectBatch(t, second, 500, 501, 1000)
	second.Nack()
	again := receive(t, ch)
	expectBatch(t, again, 500, 501, 1000)
	if again.UUID == second.UUID {
		t.Error("a redelivery reuses the nacked message")
	}
	again.Ack()
	last := receive(t, ch)
	expectBatch(t, last, 1000, 1001, 1200)
	last.Ack()

	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("a message after Close")
		}
	case <-time.After(10 * time.Second):
		t.Error("channel still open after Close")
	}
	if _, err := sub.Subscribe(context.Background(), "songs"); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
}

func TestResumesAfterStartAndFiltersKeepingUpWithTheHead(t *testing.T) {
	store := newStore(t)
	appendTyped(t, store, "SongAdded", "ListenRecorded", "SongAdded", "ListenRecorded", "SongAdded")
	head := appendTyped(t, store, repeat("SongAdded", 3)...)
	sub, err := eventbus.NewSubscriber(eventbus.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	start := func(context.Context) (uint64, error) { return 2, nil }
	if err := sub.Register("listens", eventstore.Filter{EventTypes: []string{"ListenRecorded"}}, start, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "listens")
	if err != nil {
		t.Fatal(err)
	}
	// Event 2 is before the start; event 4 is the only listen after it.
	var checkpoint uint64
	var got []uint64
	for checkpoint < head {
		msg := receive(t, ch)
		b, _ := eventbus.BatchFrom(msg)
		after, _ := eventbus.AfterFrom(msg)
		if after != max(checkpoint, 2) {
			t.Errorf("batch after %d, want after the previous checkpoint %d", after, max(checkpoint, 2))
		}
		for _, e := range b.Events {
			got = append(got, e.Position)
			if e.Type != "ListenRecorded" {
				t.Errorf("filtered subscription delivered a %s", e.Type)
			}
		}
		checkpoint = b.Checkpoint
		msg.Ack()
	}
	if len(got) != 1 || got[0] != 4 || checkpoint != head {
		t.Errorf("delivered events %v up to checkpoint %d; want [4] up to the head %d", got, checkpoint, head)
	}
}

func TestLostLockStopsDeliveryUntilTakenAgain(t *testing.T) {
	store := newStore(t)
	appendTyped(t, store, repeat("SongAdded", 5)...)
	sub, err := eventbus.NewSubscriber(eventbus.Config{BatchSize: 100, RestartDelay: 10 * time.Millisecond}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })

	var checkpoint atomic.Uint64 // what the handler committed
	start := func(context.Context) (uint64, error) { return checkpoint.Load(), nil }
	type tenure struct {
		lose     context.CancelFunc
		released chan struct{}
	}
	tenures := make(chan tenure, 4)
	grant := make(chan struct{}, 4) // one token per lock granted
	lock := func(ctx context.Context) (context.Context, func(), error) {
		select {
		case <-grant:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		held, lose := context.WithCancel(ctx)
		released := make(chan struct{})
		tenures <- tenure{lose: lose, released: released}
		return held, func() { lose(); close(released) }, nil
	}
	if err := sub.Register("songs", eventstore.Filter{}, start, lock); err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "songs")
	if err != nil {
		t.Fatal(err)
	}

	select {
	case msg := <-ch:
		t.Fatalf("message %v before the lock was granted", msg.Metadata)
	case <-time.After(200 * time.Millisecond):
	}
	grant <- struct{}{}
	first := <-tenures
	msg := receive(t, ch)
	expectBatch(t, msg, 0, 1, 5)
	checkpoint.Store(5)
	msg.Ack()

	first.lose() // the lock's connection broke
	select {
	case <-first.released:
	case <-time.After(10 * time.Second):
		t.Fatal("the lost lock was not released")
	}
	head := appendTyped(t, store, repeat("SongAdded", 3)...)
	select {
	case msg := <-ch:
		t.Fatalf("message %v delivered without the lock", msg.Metadata)
	case <-time.After(200 * time.Millisecond):
	}
	grant <- struct{}{}
	<-tenures
	// Resumes from what start says, not from where the lost tenure was.
	resumed := receive(t, ch)
	expectBatch(t, resumed, 5, 6, head)
	resumed.Ack()
}

func TestRegisterAndSubscribeRefuseMistakes(t *testing.T) {
	store := newStore(t)
	sub, err := eventbus.NewSubscriber(eventbus.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	start := func(context.Context) (uint64, error) { return 0, nil }
	if err := sub.Register("a", eventstore.Filter{}, start, nil); err != nil {
		t.Fatal(err)
	}
	if err := sub.Register("a", eventstore.Filter{}, start, nil); err == nil {
		t.Error("a topic registered twice")
	}
	if err := sub.Register("b", eventstore.Filter{}, nil, nil); err == nil {
		t.Error("a topic without start")
	}
	if _, err := sub.Subscribe(context.Background(), "unknown"); err == nil {
		t.Error("subscribed to an unregistered topic")
	}
	if _, err := sub.Subscribe(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(context.Background(), "a"); err == nil {
		t.Error("one topic subscribed twice: its events would be applied twice")
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := eventbus.NewSubscriber(eventbus.Config{BatchSize: -1, NackDelay: -time.Second, RestartDelay: -time.Second, IdleCheckpointInterval: -time.Second}, nil, nil)
	for _, want := range []string{"BatchSize", "NackDelay", "RestartDelay", "IdleCheckpointInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewSubscriber = %v, want it to name %s", err, want)
		}
	}
}

func TestCheckpointOnlyMovesAreHeldBackButReported(t *testing.T) {
	store := newStore(t)
	var (
		mu       sync.Mutex
		progress []uint64
	)
	sub, err := eventbus.NewSubscriber(eventbus.Config{
		IdleCheckpointInterval: 700 * time.Millisecond,
		Progress: func(topic string, pos uint64) {
			if topic != "listens" {
				t.Errorf("progress of topic %q", topic)
			}
			mu.Lock()
			progress = append(progress, pos)
			mu.Unlock()
		},
	}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	start := func(context.Context) (uint64, error) { return 0, nil }
	if err := sub.Register("listens", eventstore.Filter{EventTypes: []string{"ListenRecorded"}}, start, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "listens")
	if err != nil {
		t.Fatal(err)
	}
	listen := appendTyped(t, store, "ListenRecorded")
	first := receive(t, ch)
	expectBatch(t, first, 0, listen, listen)
	first.Ack()

	// Events the topic does not read: no message right away, but Progress
	// knows the topic is past them.
	began := time.Now()
	appendTyped(t, store, "SongAdded")
	head := appendTyped(t, store, "SongAdded", "SongAdded")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		reported := len(progress) > 0 && progress[len(progress)-1] == head
		mu.Unlock()
		if reported {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress %v never reached the head %d", progress, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The held-back move is delivered once the interval since the last
	// message has passed, as one message up to the head.
	msg := receive(t, ch)
	if waited := time.Since(began); waited < 400*time.Millisecond {
		t.Errorf("checkpoint-only message after %s, want it held back about 700ms", waited)
	}
	b, _ := eventbus.BatchFrom(msg)
	after, _ := eventbus.AfterFrom(msg)
	if len(b.Events) != 0 || after != listen || b.Checkpoint != head {
		t.Fatalf("message after %d with %d events up to %d; want a move from %d to the head %d", after, len(b.Events), b.Checkpoint, listen, head)
	}
	msg.Ack()

	// A move held back is carried by the next batch with events, at once.
	appendTyped(t, store, "SongAdded")
	next := appendTyped(t, store, "ListenRecorded")
	carried := receive(t, ch)
	got := expectBatch(t, carried, head, next, next)
	carried.Ack()
	if got.Checkpoint != next {
		t.Errorf("checkpoint %d, want %d", got.Checkpoint, next)
	}
}
