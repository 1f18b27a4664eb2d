package esdbstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// How a subscription follows $all.
//
// It catches up by paging $all itself (ReadAll pages of ScanPageSize,
// filtered here), then opens a server-side filtered catch-up subscription
// from the last event scanned. Paging first keeps catching up on millions of
// events fast (a server-side filter scans MaxSearchWindow events per page),
// while the live subscription uses a window of 1 so the server reports a
// checkpoint after each filtered-out event: a projector that ignores an
// event still passes its position at once, and read-your-writes never waits
// for an unrelated projector. When the server says the subscription fell
// behind, or it drops, the follower pages again from its last position,
// then resubscribes: events at or before that position are never delivered
// again, and none after it is skipped.

// source is what a follower needs of the server. clientSource is the real
// one; the tests script a fake to drive drops, errors and checkpoints.
type source interface {
	// readAll reads up to n events of $all forward from from (an event at
	// from itself included).
	readAll(ctx context.Context, from esdb.AllPosition, n int) ([]*esdb.ResolvedEvent, error)
	// subscribe opens a catch-up subscription to $all after from.
	subscribe(ctx context.Context, from esdb.AllPosition, opts esdb.SubscribeToAllOptions) (feed, error)
}

// feed is an open subscription: recv blocks for the next message and ends
// with a SubscriptionDropped one.
type feed interface {
	recv() *esdb.SubscriptionEvent
	close()
}

type clientSource struct{ client *esdb.Client }

func (c clientSource) readAll(ctx context.Context, from esdb.AllPosition, n int) ([]*esdb.ResolvedEvent, error) {
	rs, err := c.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, uint64(n))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]*esdb.ResolvedEvent, 0, n)
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
}

func (c clientSource) subscribe(ctx context.Context, from esdb.AllPosition, opts esdb.SubscribeToAllOptions) (feed, error) {
	opts.From = from
	sub, err := c.client.SubscribeToAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	return clientFeed{sub}, nil
}

type clientFeed struct{ sub *esdb.Subscription }

func (f clientFeed) recv() *esdb.SubscriptionEvent { return f.sub.Recv() }
func (f clientFeed) close()                        { _ = f.sub.Close() }

// serverFilter is the server-side part of filter. The server filters on
// event type or on stream name, not both: event types win (they select
// least for projectors), the rest is checked here on every event. Exact
// types become one anchored regular expression; with no filter, system
// events are still excluded server-side, which also makes the server send
// checkpoints.
func serverFilter(filter eventstore.Filter) *esdb.SubscriptionFilter {
	switch {
	case len(filter.EventTypes) > 0:
		types := dedupe(filter.EventTypes)
		quoted := make([]string, len(types))
		for i, t := range types {
			quoted[i] = regexp.QuoteMeta(t)
		}
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^(?:" + strings.Join(quoted, "|") + ")$"}
	case len(filter.StreamPrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: dedupe(filter.StreamPrefixes)}
	default:
		return esdb.ExcludeSystemEventsFilter()
	}
}

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// subscribeOptions are the live subscription's options for filter.
func subscribeOptions(cfg Config, filter eventstore.Filter) esdb.SubscribeToAllOptions {
	return esdb.SubscribeToAllOptions{
		Filter:             serverFilter(filter),
		MaxSearchWindow:    cfg.LiveSearchWindow,
		CheckpointInterval: cfg.CheckpointInterval,
	}
}

// permanentError marks an error a resubscription cannot cure (bad data in
// the log, refused credentials, a closed client).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// retryable reports whether a follower should resubscribe after err.
func retryable(err error) bool {
	if errors.As(err, new(permanentError)) {
		return false
	}
	if code, ok := errorCode(err); ok {
		switch code {
		case esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature, esdb.ErrorCodeConnectionClosed:
			return false
		}
		return true
	}
	// A dropped subscription reports the raw gRPC error.
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented, codes.InvalidArgument:
			return false
		}
	}
	return true
}

// errFellBehind: the server's live subscription could not keep up; page
// $all again, then resubscribe.
var errFellBehind = errors.New("esdbstore: subscription fell behind")

// Subscribe follows $all after position after, filtered, until ctx ends.
func (s *Store) Subscribe(ctx context.Context, after uint64, filter eventstore.Filter, batchSize int) (eventstore.Subscription, error) {
	if batchSize < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "esdbstore: subscribe: batch size %d must be at least 1", batchSize)
	}
	return startFollower(ctx, s.cfg, clientSource{s.client}, s.logger, after, filter, batchSize), nil
}

type subscription struct {
	ch  chan eventstore.Batch
	mu  sync.Mutex
	err error
}

func (sub *subscription) Batches() <-chan eventstore.Batch { return sub.ch }

func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// follower delivers one subscription's batches.
type follower struct {
	cfg     Config
	src     source
	logger  *slog.Logger
	filter  eventstore.Filter
	opts    esdb.SubscribeToAllOptions
	size    int
	ch      chan eventstore.Batch
	cur     cursor // the last event or checkpoint scanned
	sent    uint64 // the checkpoint of the last batch delivered
	pending []eventstore.RecordedEvent
}

func startFollower(ctx context.Context, cfg Config, src source, logger *slog.Logger, after uint64, filter eventstore.Filter, batchSize int) *subscription {
	sub := &subscription{ch: make(chan eventstore.Batch)}
	f := &follower{
		cfg: cfg, src: src, logger: logger, filter: filter, size: batchSize,
		opts: subscribeOptions(cfg, filter), ch: sub.ch,
		cur: cursorAt(after), sent: after,
	}
	go func() {
		err := f.run(ctx)
		sub.mu.Lock()
		sub.err = err
		sub.mu.Unlock()
		close(sub.ch)
	}()
	return sub
}

// run follows the log until ctx ends (nil) or a permanent error.
func (f *follower) run(ctx context.Context) error {
	backoff := f.cfg.RetryMinBackoff
	for {
		progressed, err := f.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errFellBehind) {
			continue
		}
		if !retryable(err) {
			return fmt.Errorf("esdbstore: subscription after %d: %w", f.cur.pos, err)
		}
		if progressed {
			backoff = f.cfg.RetryMinBackoff
		}
		f.logger.Info("esdbstore: subscription dropped, resubscribing", "after", f.cur.pos, "backoff", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, f.cfg.RetryMaxBackoff)
	}
}

// emit delivers b unless ctx ends first.
func (f *follower) emit(ctx context.Context, b eventstore.Batch) bool {
	select {
	case f.ch <- b:
		f.sent = b.Checkpoint
		return true
	case <-ctx.Done():
		return false
	}
}

// dirty reports whether something scanned is not delivered yet.
func (f *follower) dirty() bool { return len(f.pending) > 0 || f.cur.pos > f.sent }

// flush delivers the pending events, or a checkpoint-only batch when the
// scan moved past the last delivered checkpoint.
func (f *follower) flush(ctx context.Context) bool {
	if !f.dirty() {
		return true
	}
	b := eventstore.Batch{Events: f.pending, Checkpoint: f.cur.pos}
	f.pending = nil
	return f.emit(ctx, b)
}

// follow pages $all up to its end, then follows a live subscription until
// it drops or falls behind. progressed says whether the position moved.
func (f *follower) follow(ctx context.Context) (progressed bool, err error) {
	for {
		b, next, atEnd, err := scan(ctx, f.src, f.cur, f.size, f.cfg.ScanPageSize, f.cfg.ScanPageSize, f.filter)
		if err != nil {
			return progressed, err
		}
		if next.pos > f.cur.pos {
			progressed = true
		}
		f.cur = next
		if len(b.Events) > 0 || b.Checkpoint > f.sent {
			if !f.emit(ctx, b) {
				return progressed, ctx.Err()
			}
		}
		if atEnd {
			break
		}
	}

	fd, err := f.src.subscribe(ctx, f.cur.full, f.opts)
	if err != nil {
		return progressed, err
	}
	msgs := make(chan *esdb.SubscriptionEvent)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m := fd.recv()
			select {
			case msgs <- m:
			case <-stop:
				return
			}
			if m.SubscriptionDropped != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		fd.close() // unblocks recv
		wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var dirtySince time.Time
	for {
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case <-timer.C:
			if !f.flush(ctx) {
				return progressed, ctx.Err()
			}
			dirtySince = time.Time{}
			continue
		case m := <-msgs:
			switch {
			case m.EventAppeared != nil:
				e := m.EventAppeared.OriginalEvent()
				pos, err := encodePosition(e.Position)
				if err != nil {
					return progressed, permanent(err)
				}
				if pos <= f.cur.pos {
					continue // already scanned: never deliver twice
				}
				progressed = true
				f.cur = cursor{pos: pos, full: e.Position}
				if !isSystem(e) && f.filter.Matches(e.StreamID, e.EventType) {
					rec, err := toRecorded(m.EventAppeared)
					if err != nil {
						return progressed, permanent(err)
					}
					f.pending = append(f.pending, rec)
					if len(f.pending) == f.size {
						if !f.flush(ctx) {
							return progressed, ctx.Err()
						}
						dirtySince = time.Time{}
					}
				}
			case m.CheckPointReached != nil:
				pos, err := encodePosition(*m.CheckPointReached)
				if err != nil {
					return progressed, permanent(err)
				}
				if pos > f.cur.pos {
					progressed = true
					f.cur = cursor{pos: pos, full: *m.CheckPointReached}
				}
			case m.FellBehind != nil:
				if !f.flush(ctx) {
					return progressed, ctx.Err()
				}
				return progressed, errFellBehind
			case m.SubscriptionDropped != nil:
				if !f.flush(ctx) {
					return progressed, ctx.Err()
				}
				err := m.SubscriptionDropped.Error
				if err == nil {
					err = errors.New("dropped without a reason")
				}
				return progressed, fmt.Errorf("subscription dropped: %w", err)
			}
		}
		// Deliver when the feed goes quiet, or when a partial batch has
		// waited MaxBatchDelay under a steady trickle.
		if f.dirty() {
			now := time.Now()
			if dirtySince.IsZero() {
				dirtySince = now
			}
			wait := min(f.cfg.QuietFlush, f.cfg.MaxBatchDelay-now.Sub(dirtySince))
			timer.Reset(max(wait, 0))
		}
	}
}
