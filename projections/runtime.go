package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/eventbus"
	"github.com/hustmusik/backend/infra/eventstore"
)

// CheckpointChannel is the NOTIFY channel on which every checkpoint commit
// is announced as "<projector name>:<position>"; Wait in other processes
// listens to it.
const CheckpointChannel = "hustmusik_checkpoints"

// errFenced: the checkpoint row was not where this runner expected it, so
// another runner (or a rebuild) moved it. The batch must not be applied: the
// runner goes back to its lock and resumes from the stored checkpoint.
var errFenced = errors.New("projections: checkpoint moved by someone else")

// Config tunes the projection runtime.
type Config struct {
	// BatchSize is the most events applied in one transaction (default
	// 5000). Live traffic makes small batches of whatever arrived; the
	// limit matters when catching up, where each transaction's fixed cost
	// (the log read, the round trips, the commit) is shared by this many
	// events and projectors that sum per key write fewer rows.
	BatchSize int
	// MaxRetries is how often a failing batch, and then each of its events,
	// is retried before the event is parked (default 3).
	MaxRetries int
	// InitialInterval is the first pause between retries, doubled each
	// time up to MaxInterval (defaults 100ms and 5s).
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// LockRetryInterval is how often a standby tries to take a projector's
	// lock (default 1s).
	LockRetryInterval time.Duration
	// LockCheckInterval is how often a held lock's connection is checked
	// (default 1s): when it broke, PostgreSQL already released the lock.
	LockCheckInterval time.Duration
	// PollInterval is how often Wait's positions are read from the table,
	// in case a notification was missed (default 250ms).
	PollInterval time.Duration
	// NackDelay is the pause before a batch that failed without being
	// parked (database down, lock lost) is delivered again (default 500ms).
	NackDelay time.Duration
	// CloseTimeout bounds how long a stopping router waits for the batches
	// in flight (default 30s).
	CloseTimeout time.Duration
	// IdleCheckpointInterval spaces out the transactions that only move a
	// projector's checkpoint past events it does not read (default 1s; see
	// eventbus.Config.IdleCheckpointInterval). Meanwhile Wait knows the
	// projector's true position at once; another process learns it (and a
	// restart resumes from it) when it is stored.
	IdleCheckpointInterval time.Duration
	// OnCommit, when set, is told of every committed batch of events (not
	// of a checkpoint-only move): the projector, how many events it applied
	// and how long the transaction took (metrics).
	// It runs on the projector's goroutine: it must be quick.
	OnCommit func(projector string, events int, took time.Duration)
}

func (c *Config) setDefaults() {
	if c.BatchSize == 0 {
		c.BatchSize = 5000
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.InitialInterval == 0 {
		c.InitialInterval = 100 * time.Millisecond
	}
	if c.MaxInterval == 0 {
		c.MaxInterval = 5 * time.Second
	}
	if c.LockRetryInterval == 0 {
		c.LockRetryInterval = time.Second
	}
	if c.LockCheckInterval == 0 {
		c.LockCheckInterval = time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.NackDelay == 0 {
		c.NackDelay = 500 * time.Millisecond
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.IdleCheckpointInterval == 0 {
		c.IdleCheckpointInterval = time.Second
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("projections: %s %s must be positive", name, d))
		}
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("projections: BatchSize %d must be positive", c.BatchSize))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("projections: MaxRetries %d must not be negative", c.MaxRetries))
	}
	positive("InitialInterval", c.InitialInterval)
	positive("MaxInterval", c.MaxInterval)
	positive("LockRetryInterval", c.LockRetryInterval)
	positive("LockCheckInterval", c.LockCheckInterval)
	positive("PollInterval", c.PollInterval)
	positive("NackDelay", c.NackDelay)
	positive("CloseTimeout", c.CloseTimeout)
	positive("IdleCheckpointInterval", c.IdleCheckpointInterval)
	if c.MaxInterval > 0 && c.InitialInterval > c.MaxInterval {
		errs = append(errs, fmt.Errorf("projections: InitialInterval %s exceeds MaxInterval %s", c.InitialInterval, c.MaxInterval))
	}
	return errors.Join(errs...)
}

// Runtime runs projectors: each one a Watermill handler fed by the event
// store, its rows and checkpoint committed together, failing events retried
// then parked, one runner per projector across processes.
type Runtime struct {
	cfg       Config
	pool      *pgxpool.Pool
	store     eventstore.Store
	logger    *slog.Logger
	positions *positions
	running   chan struct{}

	mu      sync.Mutex
	runners []*runner
	byName  map[string]*runner
	started bool
}

// runner is one projector as this runtime runs it.
type runner struct {
	p       Projector
	name    string
	filter  eventstore.Filter
	lockKey int64

	mu   sync.Mutex
	kick context.CancelFunc // ends the current lock tenure; nil while not held
}

// restart makes the runner give up its lock tenure: its subscription stops
// and it resumes from the stored checkpoint once it holds the lock again.
func (r *runner) restart() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kick != nil {
		r.kick()
	}
}

func (r *runner) setKick(kick context.CancelFunc) {
	r.mu.Lock()
	r.kick = kick
	r.mu.Unlock()
}

// New returns a runtime with no projectors.
func New(cfg Config, pool *pgxpool.Pool, store eventstore.Store, logger *slog.Logger) (*Runtime, error) {
	cfg.setDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if pool == nil {
		errs = append(errs, errors.New("projections: pool is required"))
	}
	if store == nil {
		errs = append(errs, errors.New("projections: store is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Runtime{
		cfg:       cfg,
		pool:      pool,
		store:     store,
		logger:    logger.With("component", "projections"),
		positions: newPositions(),
		running:   make(chan struct{}),
		byName:    map[string]*runner{},
	}, nil
}

// Add registers a projector; call it before Run. A second projector with the
// same name is an error: both would share one checkpoint.
func (rt *Runtime) Add(p Projector) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("projections: add %q: the runtime already runs", p.Name())
	}
	name := p.Name()
	if name == "" {
		return errors.New("projections: a projector needs a name")
	}
	if _, dup := rt.byName[name]; dup {
		return fmt.Errorf("projections: projector %q added twice", name)
	}
	r := &runner{p: p, name: name, filter: p.Filter(), lockKey: lockKey(name)}
	rt.runners = append(rt.runners, r)
	rt.byName[name] = r
	return nil
}

// Running is closed once every projector's handler is subscribed (each
// may still be waiting for its lock as a standby).
func (rt *Runtime) Running() <-chan struct{} { return rt.running }

// Run runs every added projector until ctx ends, then stops gracefully: the
// batches in flight commit or roll back, and the locks are released.
func (rt *Runtime) Run(ctx context.Context) error {
	rt.mu.Lock()
	if rt.started {
		rt.mu.Unlock()
		return errors.New("projections: Run called twice")
	}
	rt.started = true
	runners := append([]*runner(nil), rt.runners...)
	rt.mu.Unlock()
	if len(runners) == 0 {
		return errors.New("projections: no projector added")
	}

	wmLogger := watermill.NewSlogLogger(rt.logger)
	sub, err := eventbus.NewSubscriber(eventbus.Config{
		BatchSize:    rt.cfg.BatchSize,
		NackDelay:    rt.cfg.NackDelay,
		RestartDelay: rt.cfg.LockRetryInterval,
		// A held-back move is true at once: what the projector reads up to
		// it was committed, the rest is not its business.
		IdleCheckpointInterval: rt.cfg.IdleCheckpointInterval,
		Progress:               rt.positions.raise,
	}, rt.store, wmLogger)
	if err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	defer sub.Close()

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: rt.cfg.CloseTimeout}, wmLogger)
	if err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	retry := middleware.Retry{
		MaxRetries:      rt.cfg.MaxRetries,
		InitialInterval: rt.cfg.InitialInterval,
		MaxInterval:     rt.cfg.MaxInterval,
		Multiplier:      2,
		// Neither a lost lock nor a stopping runtime is cured by retrying.
		ShouldRetry: func(p middleware.RetryParams) bool {
			return !errors.Is(p.Err, errFenced) && !errors.Is(p.Err, context.Canceled)
		},
	}
	for _, r := range runners {
		if err := sub.Register(r.name, r.filter, rt.start(r), rt.lock(r)); err != nil {
			return fmt.Errorf("projections: %w", err)
		}
		// The handler name is the projector's name: a stable identifier,
		// like the checkpoint key it also is. Renaming a projector replays it.
		h := router.AddConsumerHandler(r.name, r.name, sub, rt.handle(r))
		// Outermost first: parking sees what is left after the retries,
		// and the retries see panics as errors.
		h.AddMiddleware(rt.parking(r), retry.Middleware, middleware.Recoverer)
	}

	listenCtx, stopListen := context.WithCancel(ctx)
	var listening sync.WaitGroup
	listening.Add(1)
	go func() {
		defer listening.Done()
		rt.listen(listenCtx)
	}()
	defer func() {
		stopListen()
		listening.Wait()
	}()

	go func() {
		select {
		case <-router.Running():
			close(rt.running)
		case <-ctx.Done():
		}
	}()
	stop := context.AfterFunc(ctx, func() { router.Close() })
	defer stop()
	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	return nil
}

// start makes sure the projector has a checkpoint row (the compare-and-set
// of commit needs one) and returns it. It runs under the projector's lock.
func (rt *Runtime) start(r *runner) eventbus.StartFunc {
	return func(ctx context.Context) (uint64, error) {
		var pos int64
		err := rt.pool.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, 0, now())
				ON CONFLICT (name) DO NOTHING
				RETURNING position)
			SELECT position FROM ins
			UNION ALL
			SELECT position FROM projection_checkpoints WHERE name = $1`, r.name).Scan(&pos)
		if err != nil {
			return 0, fmt.Errorf("projections: read checkpoint of %s: %w", r.name, err)
		}
		// A new tenure: whatever ran before may have changed the rows.
		// (Counted before the position is: see positions.)
		rt.positions.dataChanged(r.name, 0)
		rt.positions.set(r.name, uint64(pos))
		return uint64(pos), nil
	}
}

// handle applies one delivered batch.
func (rt *Runtime) handle(r *runner) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		batch, ok := eventbus.BatchFrom(msg)
		after, ok2 := eventbus.AfterFrom(msg)
		if !ok || !ok2 {
			return fmt.Errorf("projections: %s: message %s carries no batch", r.name, msg.UUID)
		}
		return rt.commit(msg.Context(), r, after, batch.Events, batch.Checkpoint, nil)
	}
}

// parked describes an event being parked instead of applied.
type parked struct {
	event    eventstore.RecordedEvent
	err      error
	attempts int
}

// commit applies events (or parks one) and moves the checkpoint from after
// to checkpoint, all in one transaction.
func (rt *Runtime) commit(ctx context.Context, r *runner, after uint64, events []eventstore.RecordedEvent, checkpoint uint64, park *parked) error {
	if checkpoint <= after && len(events) == 0 {
		return nil
	}
	began := time.Now()
	if q, ok := r.p.(Queuer); ok && park == nil && len(events) > 0 {
		return rt.commitQueued(ctx, r, q, after, events, checkpoint, began)
	}
	// The swap lock is shared with every other commit of this projector,
	// exclusive for the swap of a blue/green rebuild: the swap waits for the
	// batch in flight, and a batch waits for the swap before touching any
	// table.
	//
	// synchronous_commit is off for this transaction only: a read model is
	// rebuilt from the log, which the event store commits durably. A crash
	// may lose the last few projector commits, but each carries its rows and
	// its checkpoint together and PostgreSQL replays the WAL in order, so
	// the projector resumes from an older checkpoint with matching rows and
	// applies those events again. In exchange no batch waits for a WAL
	// flush, which is most of a write's wait for its read models.
	//
	// All three go with BEGIN in one round trip (a parameterless Exec is a
	// simple query, which may hold several statements; the key is an
	// integer).
	tx, err := rt.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginSQL(r)})
	if err != nil {
		return fmt.Errorf("projections: %s: begin and swap lock: %w", r.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	switch {
	case park != nil:
		e := park.event
		if _, err := tx.Exec(ctx, `
			INSERT INTO parked_events (projector, position, event_id, stream_id, event_type, error, attempts, parked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now())
			ON CONFLICT (projector, position) DO UPDATE
			SET error = excluded.error, attempts = parked_events.attempts + excluded.attempts, parked_at = now()`,
			r.name, int64(e.Position), e.ID, e.StreamID, e.Type, park.err.Error(), park.attempts); err != nil {
			return fmt.Errorf("projections: %s: park event %d: %w", r.name, e.Position, err)
		}
	case len(events) > 0:
		if err := r.p.Apply(ctx, tx, events); err != nil {
			return fmt.Errorf("projections: %s: apply events %d..%d: %w",
				r.name, events[0].Position, events[len(events)-1].Position, err)
		}
	}

	// A compare-and-set rather than a plain upsert: besides never moving
	// backwards, it fences out a second runner (one whose lock connection
	// broke while its transaction was in flight, or a rebuild that reset the
	// checkpoint): only the runner that read `after` may move it.
	// The checkpoint and its notification go in one round trip; a fenced
	// runner's notification never leaves, as the transaction rolls back.
	b := &pgx.Batch{}
	b.Queue(`UPDATE projection_checkpoints SET position = $3, updated_at = now()
		WHERE name = $1 AND position = $2 AND position < $3`,
		r.name, int64(after), int64(checkpoint))
	rowsChanged := park != nil || len(events) > 0
	note := r.name + ":" + strconv.FormatUint(checkpoint, 10)
	if !rowsChanged {
		note += checkpointOnlySuffix
	}
	b.Queue(`SELECT pg_notify($1, $2)`, CheckpointChannel, note)
	br := tx.SendBatch(ctx, b)
	tag, err := br.Exec()
	if err != nil {
		br.Close()
		return fmt.Errorf("projections: %s: checkpoint %d: %w", r.name, checkpoint, err)
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("projections: %s: notify: %w", r.name, err)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("projections: %s: checkpoint %d: %w", r.name, checkpoint, err)
	}
	if tag.RowsAffected() != 1 {
		r.restart()
		return fmt.Errorf("projections: %s: moving checkpoint %d to %d: %w", r.name, after, checkpoint, errFenced)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("projections: %s: commit checkpoint %d: %w", r.name, checkpoint, err)
	}
	if rowsChanged {
		rt.positions.dataChanged(r.name, checkpoint)
	}
	rt.positions.set(r.name, checkpoint)
	if rt.cfg.OnCommit != nil && park == nil && len(events) > 0 {
		rt.cfg.OnCommit(r.name, len(events), time.Since(began))
	}
	return nil
}

// Queuer is implemented by projectors whose writes need no answer from the
// database: Queue adds a batch's statements to b instead of running them.
// The runtime then sends them between BEGIN and the checkpoint and COMMIT,
// the whole transaction in one round trip instead of four (begin, Apply,
// checkpoint, commit): the wait of a write for its read models is mostly
// such round trips. Apply
// must still work alone (a rebuild or a replay may use it).
type Queuer interface {
	Queue(events []eventstore.RecordedEvent, b *pgx.Batch) error
}

// beginSQL opens a projector's transaction (see commit).
func beginSQL(r *runner) string {
	return fmt.Sprintf(`BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_advisory_xact_lock_shared(%d)`, swapKey(r.name))
}

// sqlDivisionByZero is what the checkpoint statement of commitQueued raises
// when fenced.
const sqlDivisionByZero = "22012"

// commitQueued is commit for a Queuer: BEGIN (with the swap lock), the
// projector's statements, the checkpoint, its notification and COMMIT in
// one pipeline. COMMIT runs before this process sees whether the
// checkpoint moved, so a fenced checkpoint must abort the transaction by
// itself: it divides by the number of rows it moved, and a failed
// transaction's COMMIT rolls back.
func (rt *Runtime) commitQueued(ctx context.Context, r *runner, q Queuer, after uint64, events []eventstore.RecordedEvent, checkpoint uint64, began time.Time) error {
	// BEGIN, the async commit and the swap lock lead the same pipeline
	// (see commit for why each): the whole transaction is one round trip.
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = off`)
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, swapKey(r.name))
	prelude := b.Len()
	if err := q.Queue(events, b); err != nil {
		return fmt.Errorf("projections: %s: apply events %d..%d: %w",
			r.name, events[0].Position, events[len(events)-1].Position, err)
	}
	writes := b.Len() - prelude
	b.Queue(`WITH moved AS (
			UPDATE projection_checkpoints SET position = $3, updated_at = now()
			WHERE name = $1 AND position = $2 AND position < $3 RETURNING 1)
		SELECT 1 / (SELECT count(*) FROM moved)::int`, r.name, int64(after), int64(checkpoint))
	b.Queue(`SELECT pg_notify($1, $2)`, CheckpointChannel, r.name+":"+strconv.FormatUint(checkpoint, 10))
	b.Queue(`COMMIT`)

	conn, err := rt.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("projections: %s: acquire: %w", r.name, err)
	}
	defer conn.Release()
	br := conn.SendBatch(ctx, b)
	fail := func(err error) error {
		br.Close()
		rollback(conn)
		return err
	}
	for range prelude {
		if _, err := br.Exec(); err != nil {
			return fail(fmt.Errorf("projections: %s: begin and swap lock: %w", r.name, err))
		}
	}
	for range writes {
		if _, err := br.Exec(); err != nil {
			return fail(fmt.Errorf("projections: %s: apply events %d..%d: %w",
				r.name, events[0].Position, events[len(events)-1].Position, err))
		}
	}
	if _, err := br.Exec(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == sqlDivisionByZero {
			err = fail(errFenced)
			r.restart()
			return fmt.Errorf("projections: %s: moving checkpoint %d to %d: %w", r.name, after, checkpoint, err)
		}
		return fail(fmt.Errorf("projections: %s: checkpoint %d: %w", r.name, checkpoint, err))
	}
	if _, err := br.Exec(); err != nil {
		return fail(fmt.Errorf("projections: %s: notify: %w", r.name, err))
	}
	tag, err := br.Exec()
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("the transaction rolled back (%s)", tag)
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		rollback(conn)
		return fmt.Errorf("projections: %s: commit checkpoint %d: %w", r.name, checkpoint, err)
	}
	rt.positions.dataChanged(r.name, checkpoint)
	rt.positions.set(r.name, checkpoint)
	if rt.cfg.OnCommit != nil {
		rt.cfg.OnCommit(r.name, len(events), time.Since(began))
	}
	return nil
}

// rollback ends the transaction a failed pipeline left open on conn; a
// connection that cannot is closed (the server then rolls back), so the
// pool never hands out a connection inside a transaction.
func rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `ROLLBACK`); err != nil {
		conn.Conn().Close(ctx)
	}
}

// parking is the last resort after the retries: the batch is applied again
// one event at a time (each with its own retries, in its own transaction with
// the checkpoint), and an event that still fails is parked with its error in
// parked_events while the checkpoint moves past it. Failures that say
// nothing about the events (the database is unreachable, the lock was lost,
// the runtime stops) are never parked: the batch is nacked and delivered
// again.
func (rt *Runtime) parking(r *runner) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			ctx := msg.Context()
			if err == nil || !parkable(ctx, err) {
				return out, err
			}
			batch, _ := eventbus.BatchFrom(msg)
			after, _ := eventbus.AfterFrom(msg)
			if len(batch.Events) == 0 {
				return out, err
			}
			attempts := rt.cfg.MaxRetries + 1
			if len(batch.Events) > 1 {
				rt.logger.Warn("batch failed after retries, applying its events one at a time",
					"projector", r.name, "first_position", batch.Events[0].Position,
					"last_position", batch.Events[len(batch.Events)-1].Position, "error", err)
			}
			for i, e := range batch.Events {
				checkpoint := e.Position
				if i == len(batch.Events)-1 {
					checkpoint = batch.Checkpoint
				}
				one := eventstore.Batch{Events: []eventstore.RecordedEvent{e}, Checkpoint: checkpoint}
				failure := err
				if len(batch.Events) > 1 {
					_, failure = h(eventbus.NewMessage(ctx, after, one))
				}
				if failure != nil {
					if !parkable(ctx, failure) {
						return nil, failure
					}
					n := attempts
					if len(batch.Events) > 1 {
						n = 2 * attempts // with the batch's own attempts
					}
					if err := rt.commit(ctx, r, after, nil, checkpoint, &parked{event: e, err: failure, attempts: n}); err != nil {
						return nil, err
					}
					rt.logger.Error("event parked: it failed after every retry and was set aside",
						"projector", r.name, "position", e.Position, "event_id", e.ID,
						"stream_id", e.StreamID, "event_type", e.Type, "attempts", n, "error", failure)
				}
				after = checkpoint
			}
			return nil, nil
		}
	}
}

// parkable tells a failure of the events themselves from one of the
// surroundings, which must not cost an event its place in the read model.
func parkable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, errFenced) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"40", // serialization failure, deadlock: transient by definition
			"53", // insufficient resources
			"57": // operator intervention: shutdown, cancel
			return false
		}
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgx.ErrTxClosed) {
		return false
	}
	var connectErr *pgconn.ConnectError
	return !errors.As(err, &connectErr)
}
