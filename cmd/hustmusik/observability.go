package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hustmusik/backend/infra/httpapi"
)

// newMetricsRegistry is the process's registry, with the Go runtime and
// process metrics besides the service's own.
func newMetricsRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, nil
}

// readyChecks are GET /readyz's conditions: the database answers, the
// event store answers, and every projector is within a.readiness of the
// log's head (a projector far behind serves stale reads).
func (a *app) readyChecks() []httpapi.ReadyCheck {
	return []httpapi.ReadyCheck{
		{Name: "database", Check: func(ctx context.Context) error { return a.env.pool.Ping(ctx) }},
		{Name: "eventstore", Check: func(ctx context.Context) error {
			_, err := a.env.store.Head(ctx)
			return err
		}},
		{Name: "projections", Check: func(ctx context.Context) error {
			st, err := a.runtime.Status(ctx)
			if err != nil {
				return err
			}
			return a.readiness.CheckLag(st)
		}},
	}
}
