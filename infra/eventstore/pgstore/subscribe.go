package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Subscribe follows the global log after position after, filtered, until
// ctx ends or the store closes.
func (s *Store) Subscribe(ctx context.Context, after uint64, filter eventstore.Filter, batchSize int) (eventstore.Subscription, error) {
	if batchSize < 1 {
		return nil, domain.Errorf(domain.ErrValidation, "pgstore: subscribe: batch size %d must be at least 1", batchSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.listenerOnce.Do(func() {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runListener()
		}()
	})
	sub := &subscription{
		// One batch may wait in the channel while the next is read; beyond
		// that the consumer's pace holds the reader back.
		ch:   make(chan eventstore.Batch, 1),
		wake: make(chan struct{}, 1),
	}
	s.hub.add(sub)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.hub.remove(sub)
		sub.finish(s.follow(ctx, sub, after, filter, batchSize))
	}()
	return sub, nil
}

type subscription struct {
	ch     chan eventstore.Batch
	wake   chan struct{} // a pending "the log may have grown" signal
	remote atomic.Bool   // ... by events this store did not append

	mu  sync.Mutex
	err error
}

func (sub *subscription) Batches() <-chan eventstore.Batch { return sub.ch }

func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

func (sub *subscription) finish(err error) {
	sub.mu.Lock()
	sub.err = err
	sub.mu.Unlock()
	close(sub.ch)
}

// follow reads and delivers batches until ctx ends (nil), the store closes
// (ErrClosed) or a non-transient error.
func (s *Store) follow(ctx context.Context, sub *subscription, pos uint64, filter eventstore.Filter, batchSize int) error {
	backoff := s.cfg.RetryMinBackoff
	// readDB: the log may hold events this store did not append (at the
	// start, after another process's notification, on a poll); else only
	// what this store appended is new, and it is in memory.
	readDB := true
	for {
		var (
			batch eventstore.Batch
			held  bool
			err   error
		)
		if !readDB {
			batch, held = s.recent.after(pos, batchSize, filter)
			if !held && pos >= s.recent.last() {
				// Woken by an append of this store that the batch before
				// already took from memory: nothing is new.
				batch, held = eventstore.Batch{Checkpoint: pos}, true
			}
		}
		if !held {
			batch, err = s.ReadAll(ctx, pos, batchSize, filter)
		}
		if err != nil {
			readDB = true
			if ctx.Err() != nil {
				return nil
			}
			if !transient(err) {
				return fmt.Errorf("pgstore: subscription after %d: %w", pos, err)
			}
			s.logger.Warn("event subscription: transient database error, retrying",
				"after", pos, "retry_in", backoff, "error", err)
			if !s.sleep(ctx, backoff) {
				return s.endReason(ctx)
			}
			backoff = min(2*backoff, s.cfg.RetryMaxBackoff)
			continue
		}
		backoff = s.cfg.RetryMinBackoff
		// A batch without events is worth sending only if filtered-out
		// events moved the checkpoint.
		if len(batch.Events) > 0 || batch.Checkpoint > pos {
			select {
			case sub.ch <- batch:
				pos = batch.Checkpoint
			case <-ctx.Done():
				return nil
			case <-s.done:
				return ErrClosed
			}
		}
		if len(batch.Events) == batchSize {
			continue // more may be waiting: read on without sleeping
		}
		timer := time.NewTimer(s.cfg.PollInterval)
		select {
		case <-sub.wake:
			readDB = sub.remote.Swap(false)
		case <-timer.C:
			readDB = true
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.done:
			timer.Stop()
			return ErrClosed
		}
		timer.Stop()
	}
}

// sleep waits d; false when ctx ended or the store closed first.
func (s *Store) sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

func (s *Store) endReason(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return ErrClosed
}

// hub fans the log-grew signal out to this store's subscriptions.
type hub struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

func (h *hub) add(sub *subscription) {
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(sub *subscription) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// broadcast never blocks: a subscription with a signal pending will re-read
// anyway. remote: the news may be events this store did not append (a
// notification), which only the database has.
func (h *hub) broadcast(remote bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if remote {
			sub.remote.Store(true)
		}
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

// runListener keeps one LISTEN connection (its own, outside the pool, as it
// is held forever) and wakes every subscription on each notification, so
// that appends by other processes reach subscribers within milliseconds.
// While it is down, subscriptions fall back to polling.
func (s *Store) runListener() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := s.cfg.RetryMinBackoff
	for ctx.Err() == nil {
		err := s.listen(ctx, func() { backoff = s.cfg.RetryMinBackoff })
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("event notifications: listener connection lost, reconnecting",
			"retry_in", backoff, "error", err)
		if !s.sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, s.cfg.RetryMaxBackoff)
	}
}

// listen runs one listener connection until it fails.
func (s *Store) listen(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	// Notifications sent while no listener was connected are lost: wake
	// everyone to re-read.
	s.hub.broadcast(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		// The payload is the head after an append. This store's own
		// appends (their notification may arrive before the appender has
		// put them in memory) and older ones woke everyone when they were
		// committed here; only a newer one is news. (An older append by
		// another process breaks the run of positions in memory, so a
		// subscription behind it reads the database anyway.)
		if head, err := strconv.ParseUint(n.Payload, 10, 64); err == nil && head <= max(s.recent.last(), s.ownHead.Load()) {
			continue
		}
		s.hub.broadcast(true)
	}
}

// transient reports whether err is a failure that goes away on its own: the
// server restarting or unreachable, a dropped connection, too many
// connections. Anything else (a bad query, a closed pool) is fatal.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01",                        // admin_shutdown (pg_terminate_backend, fast shutdown)
			pgErr.Code == "57P02",                        // crash_shutdown
			pgErr.Code == "57P03",                        // cannot_connect_now (starting up)
			strings.HasPrefix(pgErr.Code, "53"),          // insufficient resources (too many connections)
			pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		pgconn.SafeToRetry(err) ||
		pgconn.Timeout(err)
}
