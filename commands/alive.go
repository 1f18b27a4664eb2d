package commands

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// aliveCache remembers the songs and accounts a listen found alive, so that
// the next listens of the same song or by the same listener need not read
// their streams again: a listen is the one write that arrives thousands of
// times a second, and these reads were most of its cost.
//
// It only remembers while it watches the log for SongDeleted and
// UserDeleted (watch), forgetting each one as it is appended, by this
// process or any other. A deletion thus reaches it within the
// subscription's delay (milliseconds), which is no wider than the race a
// listen already has with a deletion between its check and its append: the
// listens stream is its own aggregate, and a song or an account is not
// locked by a listen.
type aliveCache struct {
	mu       sync.Mutex
	watching bool
	alive    map[string]struct{} // keys aliveKey(kind, id)
	epoch    uint64              // bumped by every forget: a put after one may be stale
	max      int
}

func newAliveCache(max int) *aliveCache {
	return &aliveCache{alive: map[string]struct{}{}, max: max}
}

func aliveKey(kind, id string) string { return kind + ":" + id }

// has reports whether kind id is known alive.
func (c *aliveCache) has(kind, id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.alive[aliveKey(kind, id)]
	return ok
}

// begin is called before reading whether something is alive; its answer is
// passed to put.
func (c *aliveCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put remembers kind id as alive, as read after begin answered epoch; unless
// something was forgotten since (the read may predate that deletion) or the
// log is not watched.
func (c *aliveCache) put(kind, id string, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.watching || c.epoch != epoch {
		return
	}
	if len(c.alive) >= c.max {
		for k := range c.alive {
			delete(c.alive, k)
			break
		}
	}
	c.alive[aliveKey(kind, id)] = struct{}{}
}

func (c *aliveCache) forget(kind, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.alive, aliveKey(kind, id))
}

// setWatching starts or stops remembering; stopping forgets everything.
func (c *aliveCache) setWatching(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watching = on
	if !on {
		c.epoch++
		clear(c.alive)
	}
}

// watch follows the log from its head for deletions until ctx ends, coming
// back after a failure (remembering nothing meanwhile).
func (c *aliveCache) watch(ctx context.Context, store eventstore.Store, logger *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.watchOnce(ctx, store)
		c.setWatching(false)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("listen checks: watching the log for deletions failed, retrying; listens read the song and the account meanwhile",
			"retry_in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (c *aliveCache) watchOnce(ctx context.Context, store eventstore.Store) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("head: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := store.Subscribe(ctx, head, eventstore.Filter{EventTypes: []string{
		domain.SongDeleted{}.EventType(), domain.UserDeleted{}.EventType(),
	}}, 100)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// Remembered from now on: a deletion appended after head is delivered.
	c.setWatching(true)
	for batch := range sub.Batches() {
		for _, e := range batch.Events {
			ev, err := domain.DecodeEvent(e.Type, e.Data)
			if err != nil {
				return fmt.Errorf("position %d: %w", e.Position, err)
			}
			switch ev := ev.(type) {
			case domain.SongDeleted:
				c.forget("song", ev.SongID)
			case domain.UserDeleted:
				c.forget("user", ev.UserID)
			}
		}
	}
	if err := sub.Err(); err != nil {
		return err
	}
	return ctx.Err()
}
