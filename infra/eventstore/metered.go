package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metered is a Store that counts what is appended through it, by event
// type, and appends that fail, by reason. Every write of the service goes
// through one Append, so the counter is the service's write rate per fact.
type Metered struct {
	Store
	appended *prometheus.CounterVec
	failed   *prometheus.CounterVec
}

// NewMetered wraps store and registers its counters in reg.
func NewMetered(store Store, reg prometheus.Registerer) (*Metered, error) {
	if store == nil || reg == nil {
		return nil, errors.New("eventstore: metered store needs a store and a registry")
	}
	m := &Metered{
		Store: store,
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hustmusik_events_appended_total",
			Help: "Events appended to the log, by event type.",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hustmusik_event_appends_failed_total",
			Help: "Appends refused or failed, by reason (conflict: wrong expected revision).",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.appended, m.failed} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("eventstore: register metrics: %w", err)
		}
	}
	return m, nil
}

// Append appends through the wrapped store and counts the events once they
// are in. A retried append of events already there counts them again: the
// counter measures appends, the log's head measures events.
func (m *Metered) Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error) {
	res, err := m.Store.Append(ctx, stream, expected, events...)
	if err != nil {
		reason := "error"
		if errors.Is(err, ErrWrongExpectedRevision) {
			reason = "conflict"
		}
		m.failed.WithLabelValues(reason).Inc()
		return res, err
	}
	for _, e := range events {
		m.appended.WithLabelValues(e.Type).Inc()
	}
	return res, nil
}
