package projections

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/infra/eventbus"
)

// lockKey is the advisory-lock key of a projector. It must stay the same
// across releases and processes (FNV-1a of "projector:"+name): two versions
// of the binary running side by side during a deploy must contend for the
// same key, or both would run the projector.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("projector:" + name))
	return int64(h.Sum64())
}

// lock returns the projector's LockFunc: a session-level advisory lock held
// on a connection of its own, taken from the pool and kept out of it for as
// long as the lock is wanted. A process that cannot take it is a standby
// and tries again every LockRetryInterval; when the holder dies, PostgreSQL
// ends its session and releases the lock, and a standby takes over.
func (rt *Runtime) lock(r *runner) eventbus.LockFunc {
	return func(ctx context.Context) (context.Context, func(), error) {
		conn, err := rt.waitForLock(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		rt.logger.Info("projector lock taken, running it", "projector", r.name)
		held, cancel := context.WithCancel(ctx)
		r.setKick(cancel)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			rt.watchLock(held, cancel, conn, r)
		}()
		release := func() {
			cancel()
			<-watched
			r.setKick(nil)
			closeConn(conn)
		}
		return held, release, nil
	}
}

// waitForLock returns a connection that holds r's advisory lock.
func (rt *Runtime) waitForLock(ctx context.Context, r *runner) (*pgx.Conn, error) {
	var conn *pgx.Conn
	standby := false
	for {
		if conn == nil {
			c, err := rt.pool.Acquire(ctx)
			if err == nil {
				// Hijacked: the pool forgets it, so it neither counts against
				// the pool's size nor gets handed to anyone else.
				conn = c.Hijack()
			} else if ctx.Err() == nil {
				rt.logger.Warn("projector lock: cannot get a connection", "projector", r.name, "error", err)
			}
		}
		if conn != nil {
			var got bool
			err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, r.lockKey).Scan(&got)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					rt.logger.Warn("projector lock: try failed", "projector", r.name, "error", err)
				}
				closeConn(conn)
				conn = nil
			case got:
				return conn, nil
			case !standby:
				standby = true
				rt.logger.Info("projector runs in another process; standing by", "projector", r.name)
			}
		}
		select {
		case <-ctx.Done():
			if conn != nil {
				closeConn(conn)
			}
			return nil, ctx.Err()
		case <-time.After(rt.cfg.LockRetryInterval):
		}
	}
}

// watchLock ends held (through cancel) when the lock's connection breaks:
// PostgreSQL has then released the lock and another process may run the
// projector already.
func (rt *Runtime) watchLock(held context.Context, cancel context.CancelFunc, conn *pgx.Conn, r *runner) {
	t := time.NewTicker(rt.cfg.LockCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-held.Done():
			return
		case <-t.C:
		}
		pingCtx, stop := context.WithTimeout(held, rt.cfg.LockCheckInterval+5*time.Second)
		err := conn.Ping(pingCtx)
		stop()
		if err != nil && held.Err() == nil {
			rt.logger.Warn("projector lock connection lost; stopping the projector here", "projector", r.name, "error", err)
			cancel()
			return
		}
	}
}

// closeConn releases the session's advisory locks and closes it. The
// explicit unlock matters: the server frees a closed session's locks only
// once its backend has exited, a moment after Close returns, and whoever
// takes the lock next (a replay right after a runtime stopped, the next
// replay in a loop) would otherwise find it still held.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
	// Close only fails to say goodbye politely; the socket is gone either
	// way, and with it the session's locks.
	_ = conn.Close(ctx)
}
