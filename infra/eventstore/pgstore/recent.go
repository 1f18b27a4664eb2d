package pgstore

import (
	"sync"

	"github.com/hustmusik/backend/infra/eventstore"
)

// recentLog keeps the last events this store committed, as one run of
// consecutive positions, so that this process's subscriptions take what was
// just appended from memory instead of reading it back from the database:
// with live traffic every append would otherwise cost each subscription a
// query (most of them only to learn that nothing they read was appended).
//
// It is exact, never a guess: positions are gap-free and given in commit
// order (appends hold one lock), so the events between two positions this
// store committed back to back are exactly the ones it holds. An append by
// another process breaks the run (the next batch does not start right
// after the last one held), and the run restarts at that batch; a
// subscription whose position is not inside the run reads the database.
type recentLog struct {
	mu     sync.Mutex
	events []eventstore.RecordedEvent // consecutive positions
	max    int                        // events kept, at most
}

func newRecentLog(max int) *recentLog { return &recentLog{max: max} }

// add records a committed batch (consecutive positions, in order).
func (l *recentLog) add(batch []eventstore.RecordedEvent) {
	if len(batch) == 0 || l.max == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.events); n == 0 || l.events[n-1].Position+1 != batch[0].Position {
		l.events = l.events[:0:0]
	}
	l.events = append(l.events, batch...)
	if len(l.events) > 2*l.max {
		// Trimmed in one copy now and then rather than at every batch.
		l.events = append([]eventstore.RecordedEvent(nil), l.events[len(l.events)-l.max:]...)
	}
}

// last is the position of the newest event held (0: none).
func (l *recentLog) last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return 0
	}
	return l.events[len(l.events)-1].Position
}

// after answers what ReadAll(after, limit, filter) would, when the events
// right after position after are held: the matching ones, at most limit,
// and the position scanned up to. ok is false when they are not held (or
// nothing newer is), and the database must be read.
func (l *recentLog) after(after uint64, limit int, filter eventstore.Filter) (eventstore.Batch, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.events)
	if n == 0 {
		return eventstore.Batch{}, false
	}
	first, last := l.events[0].Position, l.events[n-1].Position
	if after+1 < first || after >= last {
		return eventstore.Batch{}, false
	}
	batch := eventstore.Batch{Checkpoint: last}
	for _, e := range l.events[after+1-first:] {
		if !filter.Matches(e.StreamID, e.Type) {
			continue
		}
		batch.Events = append(batch.Events, e)
		if len(batch.Events) == limit {
			batch.Checkpoint = e.Position
			break
		}
	}
	return batch, true
}
