package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// positions are the projectors' checkpoints as this process knows them.
// Every change wakes all waiters at once by closing a channel: a waiter costs
// a goroutine parked on a select, never a query.
//
// A change of a projector's rows is counted (versions) before the position
// that comes with it is recorded: whoever waited for that position then
// reads the new version (an answer cached on the old one is not served).
type positions struct {
	mu      sync.Mutex
	pos     map[string]uint64
	changed chan struct{}
	// versions count, per projector, the changes of its rows this process
	// knows of (see Runtime.DataVersion); dataPos is the checkpoint of the
	// last one, so that a notification of a change already counted (this
	// process's own commit) is not counted again.
	versions map[string]uint64
	dataPos  map[string]uint64
}

func newPositions() *positions {
	return &positions{pos: map[string]uint64{}, changed: make(chan struct{}),
		versions: map[string]uint64{}, dataPos: map[string]uint64{}}
}

// dataChanged records that a projector's rows may have changed, up to its
// checkpoint pos (0: they were reset, or anything may have happened).
func (p *positions) dataChanged(name string, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.versions[name]++
	if pos == 0 || pos > p.dataPos[name] {
		p.dataPos[name] = pos
	}
}

// dataChangedAt records a change of a projector's rows committed at pos as
// learned from a notification: counted unless already known.
func (p *positions) dataChangedAt(name string, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pos > p.dataPos[name] {
		p.dataPos[name] = pos
		p.versions[name]++
	}
}

// raiseCounting is raise for a position that may come with changed rows
// (a poll): a move counts as a change, unless one at or past it was
// counted already.
func (p *positions) raiseCounting(name string, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.pos[name]; ok && old >= pos {
		return
	}
	if pos > p.dataPos[name] {
		p.dataPos[name] = pos
		p.versions[name]++
	}
	p.raiseLocked(name, pos)
}

// allDataChanged records that any projector's rows may have changed
// (notifications may have been missed).
func (p *positions) allDataChanged() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name := range p.pos {
		p.versions[name]++
	}
	for name := range p.versions {
		if _, counted := p.pos[name]; !counted {
			p.versions[name]++
		}
	}
}

// version is the sum of the named projectors' versions: it changes
// whenever any of them does.
func (p *positions) version(names []string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var v uint64
	for _, n := range names {
		v += p.versions[n]
	}
	return v
}

func (p *positions) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// set records a position read under the projector's lock or committed by
// this process: it is the truth, even when lower (after a rebuild).
func (p *positions) set(name string, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.pos[name]; ok && old == pos {
		return
	}
	p.pos[name] = pos
	p.broadcastLocked()
}

// raise records a position learned second hand (a notification, a poll),
// which may be older than what this process already committed.
func (p *positions) raise(name string, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raiseLocked(name, pos)
}

func (p *positions) raiseLocked(name string, pos uint64) bool {
	if old, ok := p.pos[name]; ok && old >= pos {
		return false
	}
	p.pos[name] = pos
	p.broadcastLocked()
	return true
}

func (p *positions) get(name string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos[name]
}

// wait returns when every named projector is at position or past it.
func (p *positions) wait(ctx context.Context, names []string, position uint64) error {
	for {
		p.mu.Lock()
		ready := true
		for _, n := range names {
			if p.pos[n] < position {
				ready = false
				break
			}
		}
		changed := p.changed
		p.mu.Unlock()
		if ready {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Wait returns once every projector whose filter reads any of eventTypes
// (every projector when eventTypes is empty) has committed position, or
// returns ctx's error when ctx ends first. It answers read-your-writes: a
// write's X-Position waits here. Positions committed by this process wake
// waiters at once; those of projectors run by another process arrive by
// LISTEN (or the periodic read), so Wait needs Run to be running.
func (rt *Runtime) Wait(ctx context.Context, position uint64, eventTypes []string) error {
	rt.mu.Lock()
	var names []string
	for _, r := range rt.runners {
		if readsAny(r.filter.EventTypes, eventTypes) {
			names = append(names, r.name)
		}
	}
	rt.mu.Unlock()
	if err := rt.positions.wait(ctx, names, position); err != nil {
		return fmt.Errorf("projections: wait for position %d: %w", position, err)
	}
	return nil
}

// DataVersion is a number that changes whenever the rows of any of the
// named projectors may have changed, as far as this process knows: a
// commit of events here, a notification of one elsewhere (a commit that
// only moved a checkpoint does not count), a rebuild. An answer computed
// from their read models after DataVersion returned v is still right as
// long as DataVersion answers v (readapi caches answers on it).
func (rt *Runtime) DataVersion(names ...string) uint64 {
	return rt.positions.version(names)
}

// readsAny tells whether a projector reading filterTypes (all types when
// empty) reads any of eventTypes (any type when empty).
func readsAny(filterTypes, eventTypes []string) bool {
	if len(filterTypes) == 0 || len(eventTypes) == 0 {
		return true
	}
	for _, t := range eventTypes {
		for _, f := range filterTypes {
			if t == f {
				return true
			}
		}
	}
	return false
}

// listen keeps positions up to date with checkpoints committed anywhere:
// LISTEN on one dedicated connection, plus a read of the whole table every
// PollInterval in case a notification was lost (e.g. while reconnecting).
func (rt *Runtime) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := rt.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		rt.logger.Warn("checkpoint listener failed, reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(rt.cfg.PollInterval):
		}
	}
}

func (rt *Runtime) listenOnce(ctx context.Context) error {
	cfg := rt.pool.Config().ConnConfig.Copy()
	// Waiting for a notification with a timeout must not send a cancel
	// request that could hit the next query: time out by socket deadline.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, "LISTEN "+CheckpointChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Changes notified while no listener was connected are unknown.
	rt.positions.allDataChanged()
	var lastPoll time.Time
	for {
		if time.Since(lastPoll) >= rt.cfg.PollInterval {
			if err := rt.pollCheckpoints(ctx, conn); err != nil {
				return err
			}
			lastPoll = time.Now()
		}
		waitCtx, cancel := context.WithTimeout(ctx, rt.cfg.PollInterval-time.Since(lastPoll))
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && errors.Is(waitCtx.Err(), context.DeadlineExceeded):
			continue // time to poll
		case err != nil:
			return fmt.Errorf("wait for notification: %w", err)
		}
		payload, checkpointOnly := strings.CutSuffix(n.Payload, checkpointOnlySuffix)
		payload, swapped := strings.CutSuffix(payload, swappedSuffix)
		i := strings.LastIndexByte(payload, ':')
		if i < 0 {
			continue
		}
		pos, err := strconv.ParseUint(payload[i+1:], 10, 64)
		if err != nil {
			continue
		}
		name := payload[:i]
		if pos == 0 {
			// A rebuild reset it (no commit ever notifies 0).
			rt.positions.dataChanged(name, 0)
			rt.positions.set(name, 0)
			rt.mu.Lock()
			r := rt.byName[name]
			rt.mu.Unlock()
			if r != nil {
				r.restart()
			}
			continue
		}
		switch {
		case swapped:
			rt.positions.dataChanged(name, pos)
		case !checkpointOnly:
			rt.positions.dataChangedAt(name, pos)
		}
		rt.positions.raise(name, pos)
	}
}

// Suffixes of checkpoint notifications ("name:position"): a commit that
// only moved a checkpoint (its rows did not change), and a rebuild's swap
// (its rows were all replaced, whatever the position).
const (
	checkpointOnlySuffix = ":c"
	swappedSuffix        = ":s"
)

func (rt *Runtime) pollCheckpoints(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT name, position FROM projection_checkpoints`)
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	var (
		name string
		pos  int64
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &pos}, func() error {
		// A move seen before its notification (or whose notification was
		// lost) may have changed the rows: counted, once.
		rt.positions.raiseCounting(name, uint64(pos))
		return nil
	})
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	return nil
}
