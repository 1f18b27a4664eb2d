package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hustmusik/backend/domain"
)

// OrderWork is where the reconciler finds its work: reading a read model to
// FIND work is fine, the decisions are the Order aggregate's.
type OrderWork interface {
	// PendingOrders lists orders still pending, oldest first.
	PendingOrders(ctx context.Context, limit int) ([]domain.PendingOrder, error)
	// UngrantedPremium lists paid orders that buy Premium not yet extended.
	UngrantedPremium(ctx context.Context, limit int) ([]string, error)
	// WithLock runs fn while holding the reconciler's cluster-wide lock;
	// ran is false when another replica holds it.
	WithLock(ctx context.Context, fn func(context.Context) error) (ran bool, err error)
}

// ReconcilerConfig tunes the reconciler.
type ReconcilerConfig struct {
	// Interval between passes (default 5s).
	Interval time.Duration
	// FirstCheck is how long after creation an order is first queried,
	// and the first backoff step (default 5s): 5s, 10s, 20s, ...
	FirstCheck time.Duration
	// MaxBackoff caps the wait between two queries of one order (default 2m).
	MaxBackoff time.Duration
	// Batch bounds the orders looked at per pass (default 200).
	Batch int
	// Now is the clock (default time.Now); tests move it past expiry.
	Now func() time.Time
}

func (c *ReconcilerConfig) setDefaults() {
	if c.Interval == 0 {
		c.Interval = 5 * time.Second
	}
	if c.FirstCheck == 0 {
		c.FirstCheck = 5 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 2 * time.Minute
	}
	if c.Batch == 0 {
		c.Batch = 200
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every bad setting at once.
func (c ReconcilerConfig) Validate() error {
	var errs []error
	if c.Interval < 0 || c.FirstCheck < 0 || c.MaxBackoff < c.FirstCheck {
		errs = append(errs, errors.New("reconciler: intervals must be positive and MaxBackoff at least FirstCheck"))
	}
	if c.Batch < 1 {
		errs = append(errs, errors.New("reconciler: Batch must be at least 1"))
	}
	return errors.Join(errs...)
}

// Reconciler makes sure no order stays pending because a callback was
// lost: it queries every pending order's status with a growing backoff
// until it is paid, failed, or expired, and finishes Premium extensions a
// crash interrupted. With several replicas only the lock holder works;
// the aggregate's expected revision keeps even a double check harmless.
type Reconciler struct {
	cfg    ReconcilerConfig
	orders *Orders
	work   OrderWork
	logger *slog.Logger
	due    map[string]schedule
}

type schedule struct {
	attempts int
	next     time.Time
}

// NewReconciler makes a reconciler over the order commands.
func NewReconciler(cfg ReconcilerConfig, orders *Orders, work OrderWork, logger *slog.Logger) (*Reconciler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if orders == nil || work == nil {
		return nil, errors.New("reconciler: orders and work are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{cfg: cfg, orders: orders, work: work, logger: logger, due: map[string]schedule{}}, nil
}

// Run reconciles every Interval until ctx ends. A failed pass is logged
// and the next one tries again: the loop must outlive a database blip.
// Without a gateway there is nothing to do.
func (r *Reconciler) Run(ctx context.Context) error {
	if !r.orders.Configured() {
		return nil
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("order reconciliation pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce is one pass: under the lock, query the pending orders that are
// due and grant missing Premium.
func (r *Reconciler) RunOnce(ctx context.Context) error {
	_, err := r.work.WithLock(ctx, r.pass)
	return err
}

func (r *Reconciler) pass(ctx context.Context) error {
	pending, err := r.work.PendingOrders(ctx, r.cfg.Batch)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(pending))
	var errs []error
	for _, p := range pending {
		seen[p.AppTransID] = true
		now := r.cfg.Now()
		s, known := r.due[p.AppTransID]
		if !known {
			s.next = p.CreatedAt.Add(r.cfg.FirstCheck)
		}
		expiresAt := p.CreatedAt.Add(domain.OrderLifetime)
		if now.Before(s.next) && now.Before(expiresAt) {
			r.due[p.AppTransID] = s
			continue
		}
		if _, err := r.orders.Reconcile(ctx, p.AppTransID, now); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
		s.attempts++
		s.next = now.Add(r.backoff(s.attempts))
		r.due[p.AppTransID] = s
	}
	// Forget orders that are no longer pending.
	for id := range r.due {
		if !seen[id] {
			delete(r.due, id)
		}
	}
	ungranted, err := r.work.UngrantedPremium(ctx, r.cfg.Batch)
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range ungranted {
		if _, err := r.orders.GrantPremium(orderContext(ctx, actorReconciler, domain.SourceReconciler, id), id, r.cfg.Now()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// backoff is FirstCheck doubled per attempt, capped at MaxBackoff.
func (r *Reconciler) backoff(attempts int) time.Duration {
	d := r.cfg.FirstCheck
	for i := 0; i < attempts && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxBackoff)
}
