// Package eventbus adapts the event store's global-log subscription to
// Watermill: a message.Subscriber whose topics are registered projectors,
// each message carrying one batch of consecutive events so that a projector
// applies many events in one transaction.
package eventbus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/hustmusik/backend/infra/eventstore"
)

// Metadata keys set on every message, for logs and tracing only: the batch
// itself travels in the message's context (see BatchFrom).
const (
	MetaAfter         = "after"          // position the batch starts after
	MetaFirstPosition = "first_position" // position of its first event (absent when none)
	MetaLastPosition  = "last_position"  // position of its last event (absent when none)
	MetaCheckpoint    = "checkpoint"     // position the log was scanned up to
	MetaEvents        = "events"         // number of events
)

// StartFunc returns the position a topic resumes after (its checkpoint). It
// is called each time the topic (re)starts, after its lock is held.
type StartFunc func(ctx context.Context) (uint64, error)

// LockFunc blocks until this process may run the topic, or ctx ends. It
// returns a context that ends when the lock is lost (so delivery stops at
// once) and release, which gives the lock up. The subscriber calls release
// only after the handler is done with the batch in flight.
type LockFunc func(ctx context.Context) (held context.Context, release func(), err error)

// Config tunes the subscriber.
type Config struct {
	// BatchSize is the most events one message carries (default 500).
	BatchSize int
	// NackDelay is the pause before a nacked batch is delivered again
	// (default 100ms).
	NackDelay time.Duration
	// RestartDelay is the pause before a topic whose subscription or start
	// failed is started again (default 1s).
	RestartDelay time.Duration
	// IdleCheckpointInterval spaces out the messages that only move a
	// topic's checkpoint past events its filter leaves out. While the log
	// grows with events a topic does not read (every listen, for a catalog
	// projector), each append would otherwise cost the topic's handler a
	// transaction that only moves its checkpoint. Such a move is held back
	// until this long after the topic's previous message (a batch with
	// events carries it along at once), and Progress is told of it
	// meanwhile. Zero delivers every move at once.
	IdleCheckpointInterval time.Duration
	// Progress, when set, is told of a held-back checkpoint move: every
	// event of the topic up to position is handled (the ones before were
	// acked, the rest are filtered out), although its stored checkpoint is
	// older. It runs on the topic's goroutine: it must be quick.
	Progress func(topic string, position uint64)
}

func (c *Config) setDefaults() {
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.NackDelay == 0 {
		c.NackDelay = 100 * time.Millisecond
	}
	if c.RestartDelay == 0 {
		c.RestartDelay = time.Second
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("eventbus: BatchSize %d must be positive", c.BatchSize))
	}
	if c.NackDelay < 0 {
		errs = append(errs, fmt.Errorf("eventbus: NackDelay %s must not be negative", c.NackDelay))
	}
	if c.RestartDelay < 0 {
		errs = append(errs, fmt.Errorf("eventbus: RestartDelay %s must not be negative", c.RestartDelay))
	}
	if c.IdleCheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("eventbus: IdleCheckpointInterval %s must not be negative", c.IdleCheckpointInterval))
	}
	return errors.Join(errs...)
}

// lifetime is what both subscribers share: their config, the log they
// follow, and the goroutines Close ends and waits for.
type lifetime struct {
	cfg    Config
	store  eventstore.Store
	logger watermill.LoggerAdapter

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards closed, and what the subscriber keeps beside it
	closed bool
}

func (l *lifetime) init(cfg Config, store eventstore.Store, logger watermill.LoggerAdapter) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if store == nil {
		return errors.New("eventbus: store is required")
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	l.cfg, l.store, l.logger = cfg, store, logger
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return nil
}

// launch runs follow on a goroutine of its own until ctx ends or Close,
// and closes the channel it feeds when follow returns. The caller holds mu
// and has checked that the subscriber is not closed.
func (l *lifetime) launch(ctx context.Context, follow func(ctx context.Context, out chan<- *message.Message)) <-chan *message.Message {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.ctx, cancel)
	out := make(chan *message.Message)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		follow(ctx, out)
	}()
	return out
}

// Close ends every subscription and returns once their goroutines are
// gone. It may be called more than once (the router closes a subscriber
// once per handler).
func (l *lifetime) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return nil
}

type topic struct {
	filter     eventstore.Filter
	start      StartFunc
	lock       LockFunc
	subscribed bool
}

// Subscriber is a Watermill message.Subscriber over an eventstore.Store.
// Each registered topic is followed from its own checkpoint; messages of a
// topic are delivered one at a time, the next only after the previous one
// was acked, so a handler sees the log in order.
type Subscriber struct {
	lifetime
	topics map[string]*topic // guarded by mu
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber returns a subscriber with no topics: Register them before
// the router subscribes.
func NewSubscriber(cfg Config, store eventstore.Store, logger watermill.LoggerAdapter) (*Subscriber, error) {
	s := &Subscriber{topics: map[string]*topic{}}
	if err := s.init(cfg, store, logger); err != nil {
		return nil, err
	}
	return s, nil
}

// Register declares a topic: the events it follows (filter), where it
// resumes (start) and when this process may run it (lock; nil runs it
// whenever subscribed).
func (s *Subscriber) Register(name string, filter eventstore.Filter, start StartFunc, lock LockFunc) error {
	if name == "" {
		return errors.New("eventbus: topic name is required")
	}
	if start == nil {
		return fmt.Errorf("eventbus: topic %q: start is required", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("eventbus: subscriber is closed")
	}
	if _, dup := s.topics[name]; dup {
		return fmt.Errorf("eventbus: topic %q registered twice", name)
	}
	s.topics[name] = &topic{filter: filter, start: start, lock: lock}
	return nil
}

// Subscribe starts following a registered topic. The channel is closed when
// ctx ends or the subscriber is closed. A topic can be subscribed once: two
// consumers of one topic would apply its events twice.
func (s *Subscriber) Subscribe(ctx context.Context, name string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("eventbus: subscriber is closed")
	}
	t, ok := s.topics[name]
	if !ok {
		return nil, fmt.Errorf("eventbus: topic %q is not registered", name)
	}
	if t.subscribed {
		return nil, fmt.Errorf("eventbus: topic %q is already subscribed", name)
	}
	t.subscribed = true
	return s.launch(ctx, func(ctx context.Context, out chan<- *message.Message) { s.run(ctx, name, t, out) }), nil
}

// run holds the topic's lock and follows the log until ctx ends, going back
// to waiting for the lock whenever it is lost.
func (s *Subscriber) run(ctx context.Context, name string, t *topic, out chan<- *message.Message) {
	log := s.logger.With(watermill.LogFields{"topic": name})
	for ctx.Err() == nil {
		held, release := ctx, func() {}
		if t.lock != nil {
			var err error
			held, release, err = t.lock(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Error("Cannot take the topic's lock, trying again", err, nil)
				sleep(ctx, s.cfg.RestartDelay)
				continue
			}
		}
		err := s.follow(held, name, t, out, log)
		release()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Error("Topic stopped, restarting it", err, nil)
			sleep(ctx, s.cfg.RestartDelay)
		} else {
			log.Info("Topic lock lost, waiting for it again", nil)
		}
	}
}

// follow delivers the topic's batches while held lasts. It returns nil when
// held ended and an error when the topic failed.
func (s *Subscriber) follow(held context.Context, name string, t *topic, out chan<- *message.Message, log watermill.LoggerAdapter) error {
	after, err := t.start(held)
	if err != nil {
		if held.Err() != nil {
			return nil
		}
		return fmt.Errorf("eventbus: start: %w", err)
	}
	log.Info("Following the event log", watermill.LogFields{"after": after})
	sub, err := s.store.Subscribe(held, after, t.filter, s.cfg.BatchSize)
	if err != nil {
		if held.Err() != nil {
			return nil
		}
		return fmt.Errorf("eventbus: subscribe after %d: %w", after, err)
	}
	// pending is a checkpoint-only move not delivered yet (0: none); it is
	// delivered when the timer fires, or carried by the next batch with
	// events.
	var (
		pending       uint64
		timer         *time.Timer
		fire          <-chan time.Time
		lastDelivered = time.Now()
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var batch eventstore.Batch
		due := false // the pending move's time has come
		select {
		case b, ok := <-sub.Batches():
			if !ok {
				if err := sub.Err(); err != nil {
					return fmt.Errorf("eventbus: subscription after %d: %w", after, err)
				}
				return nil
			}
			batch = b
		case <-fire:
			fire, due = nil, true
			batch = eventstore.Batch{Checkpoint: pending}
		}
		if len(batch.Events) == 0 && batch.Checkpoint <= after {
			continue // nothing new: no message for it
		}
		if len(batch.Events) == 0 && !due && s.cfg.IdleCheckpointInterval > 0 {
			if fire != nil {
				// A later move while one is pending: hold it back too.
				s.hold(name, &pending, batch.Checkpoint)
				continue
			}
			if wait := s.cfg.IdleCheckpointInterval - time.Since(lastDelivered); wait > 0 {
				s.hold(name, &pending, batch.Checkpoint)
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				fire = timer.C
				continue
			}
		}
		if fire != nil {
			// A batch with events carries the pending move along.
			timer.Stop()
			fire = nil
		}
		if !s.deliver(held, out, after, batch) {
			drain(sub)
			return nil
		}
		after, pending, lastDelivered = batch.Checkpoint, 0, time.Now()
	}
}

// hold keeps a checkpoint-only move back and tells Progress.
func (s *Subscriber) hold(name string, pending *uint64, checkpoint uint64) {
	*pending = checkpoint
	if s.cfg.Progress != nil {
		s.cfg.Progress(name, checkpoint)
	}
}

// deliver hands one batch to the handler and waits for its Ack, delivering
// it again after a Nack. It reports false when held ended first.
func (s *Subscriber) deliver(held context.Context, out chan<- *message.Message, after uint64, batch eventstore.Batch) bool {
	for {
		msg := NewMessage(held, after, batch)
		select {
		case out <- msg:
		case <-held.Done():
			return false
		}
		// Once the router took the message it always acks or nacks it; wait
		// for that even when held ends, so that the lock is released only
		// after the transaction in flight finished.
		select {
		case <-msg.Acked():
			return true
		case <-msg.Nacked():
		}
		if !sleep(held, s.cfg.NackDelay) {
			return false
		}
	}
}

// drain empties a subscription whose context ended, so that its producer
// can close the channel.
func drain(sub eventstore.Subscription) {
	for range sub.Batches() {
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type deliveryKey struct{}

type delivery struct {
	after uint64
	batch eventstore.Batch
}

// NewMessage wraps a batch that starts after position after in a Watermill
// message. The batch travels in the message's context (derived from ctx)
// instead of an encoded payload: millions of listens are not worth
// marshalling to hand them to a handler in the same process.
func NewMessage(ctx context.Context, after uint64, batch eventstore.Batch) *message.Message {
	msg := message.NewMessage(watermill.NewUUID(), nil)
	msg.Metadata.Set(MetaAfter, strconv.FormatUint(after, 10))
	msg.Metadata.Set(MetaCheckpoint, strconv.FormatUint(batch.Checkpoint, 10))
	msg.Metadata.Set(MetaEvents, strconv.Itoa(len(batch.Events)))
	if n := len(batch.Events); n > 0 {
		msg.Metadata.Set(MetaFirstPosition, strconv.FormatUint(batch.Events[0].Position, 10))
		msg.Metadata.Set(MetaLastPosition, strconv.FormatUint(batch.Events[n-1].Position, 10))
	}
	msg.SetContext(context.WithValue(ctx, deliveryKey{}, delivery{after: after, batch: batch}))
	return msg
}

// BatchFrom returns the batch a message carries.
func BatchFrom(msg *message.Message) (eventstore.Batch, bool) {
	d, ok := msg.Context().Value(deliveryKey{}).(delivery)
	return d.batch, ok
}

// AfterFrom returns the position the message's batch starts after: the
// checkpoint a handler expects to find before applying it.
func AfterFrom(msg *message.Message) (uint64, bool) {
	d, ok := msg.Context().Value(deliveryKey{}).(delivery)
	return d.after, ok
}
