package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// recentListens keeps, per listener, the decoded tail of their listens
// stream and its revision, so that a listen reads nothing instead of reading
// and decoding the last domain.ListeningTail events each time. It is only a
// cache: the append expects the cached revision, so a listener's plays
// arriving through another process (or a racing request) make it fail, and
// the decision is taken again on the stream as it is.
type recentListens struct {
	mu      sync.Mutex
	streams map[string]*listenTail
	max     int // listeners kept; past it an arbitrary one is dropped
	tail    int // events kept per listener, at most
}

// listenTail is a listener's recent plays in stream order and the revision
// of the stream's last event.
type listenTail struct {
	plays    []domain.ListenRecorded
	revision uint64
}

func newRecentListens(max, tail int) *recentListens {
	return &recentListens{streams: map[string]*listenTail{}, max: max, tail: tail}
}

func (c *recentListens) get(userID string) (listenTail, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.streams[userID]
	if !ok {
		return listenTail{}, false
	}
	// Clipped: a caller appending to it must not write into what others read.
	return listenTail{plays: slices.Clip(t.plays), revision: t.revision}, true
}

// put keeps plays (the stream's tail in order, ending at revision), trimmed
// to what a decision can need: at most tail events, and none played more
// than domain.RepeatWindow before the last one, which is always kept (it
// orders the next play).
func (c *recentListens) put(userID string, plays []domain.ListenRecorded, revision uint64) {
	if len(plays) == 0 {
		return
	}
	start := max(len(plays)-c.tail, 0)
	last := plays[len(plays)-1].ListenedAt
	for start < len(plays)-1 && last.Sub(plays[start].ListenedAt) >= domain.RepeatWindow {
		start++
	}
	// Kept as it is: callers hand over slices nobody changes in place
	// (readers get them clipped, so their appends go to new arrays).
	kept := plays[start:]
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.streams[userID]; !ok && len(c.streams) >= c.max {
		for k := range c.streams {
			delete(c.streams, k)
			break
		}
	}
	c.streams[userID] = &listenTail{plays: kept, revision: revision}
}

func (c *recentListens) forget(userID string) {
	c.mu.Lock()
	delete(c.streams, userID)
	c.mu.Unlock()
}

// loadListening is the listener's aggregate: from the cache when it holds the listener, or else from the
// stream's tail. The cache may miss plays appended through another process;
// then the append, which expects the cached revision, fails, and the retry
// reads the tail (recordListen).
func (h *Library) loadListening(ctx context.Context, userID string) (*domain.Listening, error) {
	stream := domain.ListensStream(userID)
	if cached, ok := h.recent.get(userID); ok {
		return replayListens(userID, cached.plays, cached.revision), nil
	}
	events, err := h.store.ReadStreamTail(ctx, stream, h.cfg.ListenTail)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return domain.NewListening(userID), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load tail of %s: %w", stream, err)
	}
	plays := make([]domain.ListenRecorded, 0, len(events))
	for _, rec := range events {
		p, err := decodeListen(rec)
		if err != nil {
			return nil, fmt.Errorf("load tail of %s: %w", stream, err)
		}
		plays = append(plays, p)
	}
	return replayListens(userID, plays, events[len(events)-1].Revision), nil
}

func decodeListen(rec eventstore.RecordedEvent) (domain.ListenRecorded, error) {
	e, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return domain.ListenRecorded{}, fmt.Errorf("revision %d: %w", rec.Revision, err)
	}
	p, ok := e.(domain.ListenRecorded)
	if !ok {
		return domain.ListenRecorded{}, fmt.Errorf("revision %d: %s in a listens stream", rec.Revision, rec.Type)
	}
	return p, nil
}

// replayListens is the aggregate of a stream whose tail is plays, ending
// at revision; a stream without plays is a new one.
func replayListens(userID string, plays []domain.ListenRecorded, revision uint64) *domain.Listening {
	if len(plays) == 0 {
		return domain.NewListening(userID)
	}
	return domain.RestoreListening(userID, plays, revision)
}

// loadedListening is what loadListening answered.
type loadedListening struct {
	l   *domain.Listening
	err error
}

// recordListen is RecordListen's decision and append, retried on a
// concurrent append to the stream. The first attempt decides on pre (loaded
// while the song and the account were read); a retry reloads.
func (h *Library) recordListen(ctx context.Context, userID, songID string, at time.Time, pre loadedListening) (Written, error) {
	for attempt := 1; ; attempt++ {
		l, err := pre.l, pre.err
		if attempt > 1 {
			l, err = h.loadListening(ctx, userID)
		}
		if err != nil {
			return Written{}, err
		}
		if _, err := l.Listen(songID, at); err != nil {
			return Written{}, err
		}
		w, err := h.listens.save(ctx, userID, l)
		if errors.Is(err, eventstore.ErrWrongExpectedRevision) && attempt < maxAttempts {
			h.recent.forget(userID)
			select {
			case <-ctx.Done():
				return Written{}, ctx.Err()
			case <-time.After(backoff(attempt)):
			}
			continue
		}
		if err != nil {
			h.recent.forget(userID)
			return Written{}, err
		}
		if v := l.AggregateRoot().Version(); v >= 0 {
			h.recent.put(userID, l.Tail(), uint64(v))
		}
		return w, nil
	}
}
