package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exposes the projection runtime to Prometheus: per projector its
// position, the log's head, its lag in events and in seconds and its parked
// events (read from Status at each scrape), and the size and duration of
// the batches it commits (observed by the runtime through OnCommit).
type Metrics struct {
	status  func(ctx context.Context) ([]Status, error)
	timeout time.Duration
	logger  *slog.Logger

	batchSize     *prometheus.HistogramVec
	batchDuration *prometheus.HistogramVec
	events        *prometheus.CounterVec

	position, head, lagEvents, lagSeconds, parked, up *prometheus.Desc
}

// NewMetrics registers the projection metrics in reg. Pass its OnCommit as
// Config.OnCommit, and the runtime's Status with SetStatus once the runtime
// exists.
func NewMetrics(reg prometheus.Registerer, logger *slog.Logger) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("projections: metrics need a registry")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	label := []string{"projector"}
	m := &Metrics{
		timeout: 5 * time.Second,
		logger:  logger,
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hustmusik_projection_batch_events",
			Help:    "Events applied per committed batch.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}, label),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hustmusik_projection_batch_duration_seconds",
			Help:    "Time from a batch's begin to its commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, label),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hustmusik_projection_events_applied_total",
			Help: "Events applied by this process, per projector.",
		}, label),
		position:   prometheus.NewDesc("hustmusik_projection_position", "Checkpoint: the last log position the read model includes.", label, nil),
		head:       prometheus.NewDesc("hustmusik_projection_head", "The event log's head position when the status was read.", nil, nil),
		lagEvents:  prometheus.NewDesc("hustmusik_projection_lag_events", "Events matching the projector's filter it has not applied yet (an upper bound past 10000).", label, nil),
		lagSeconds: prometheus.NewDesc("hustmusik_projection_lag_seconds", "Age of the oldest matching event not applied yet; 0 when caught up.", label, nil),
		parked:     prometheus.NewDesc("hustmusik_projection_parked_events", "Events set aside after every retry failed.", label, nil),
		up:         prometheus.NewDesc("hustmusik_projection_status_up", "1 when the projection status could be read at this scrape.", nil, nil),
	}
	for _, c := range []prometheus.Collector{m.batchSize, m.batchDuration, m.events, m} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("projections: register metrics: %w", err)
		}
	}
	return m, nil
}

// SetStatus tells the metrics where to read the status on a scrape
// (Runtime.Status). Call it before the first scrape.
func (m *Metrics) SetStatus(status func(ctx context.Context) ([]Status, error)) { m.status = status }

// OnCommit records one committed batch (Config.OnCommit).
func (m *Metrics) OnCommit(projector string, events int, took time.Duration) {
	m.batchSize.WithLabelValues(projector).Observe(float64(events))
	m.batchDuration.WithLabelValues(projector).Observe(took.Seconds())
	m.events.WithLabelValues(projector).Add(float64(events))
}

// Describe sends the descriptions of the gauges read at scrape time.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.position, m.head, m.lagEvents, m.lagSeconds, m.parked, m.up} {
		ch <- d
	}
}

// Collect reads the status of every projector now: a scrape sees the
// database's truth, also for projectors running in another process.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	if m.status == nil {
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		// A scrape has no error channel: the up gauge says it, the log says why.
		m.logger.Warn("projection metrics: status unreadable", "error", err)
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, 1)
	for i, s := range st {
		if i == 0 {
			ch <- prometheus.MustNewConstMetric(m.head, prometheus.GaugeValue, float64(s.Head))
		}
		ch <- prometheus.MustNewConstMetric(m.position, prometheus.GaugeValue, float64(s.Position), s.Name)
		ch <- prometheus.MustNewConstMetric(m.lagEvents, prometheus.GaugeValue, float64(s.LagEvents), s.Name)
		ch <- prometheus.MustNewConstMetric(m.lagSeconds, prometheus.GaugeValue, s.LagSeconds, s.Name)
		ch <- prometheus.MustNewConstMetric(m.parked, prometheus.GaugeValue, float64(s.Parked), s.Name)
	}
}

// Readiness bounds how far behind the log a projector may be for the
// service to call itself ready.
type Readiness struct {
	MaxLagEvents  uint64        // default 10000
	MaxLagSeconds time.Duration // default 10s
}

func (r *Readiness) setDefaults() {
	if r.MaxLagEvents == 0 {
		r.MaxLagEvents = 10000
	}
	if r.MaxLagSeconds == 0 {
		r.MaxLagSeconds = 10 * time.Second
	}
}

// CheckLag returns an error naming every projector of st past the bounds.
func (r Readiness) CheckLag(st []Status) error {
	r.setDefaults()
	var errs []error
	for _, s := range st {
		if s.LagEvents > r.MaxLagEvents || s.LagSeconds > r.MaxLagSeconds.Seconds() {
			errs = append(errs, fmt.Errorf("%s is %d events and %.1fs behind", s.Name, s.LagEvents, s.LagSeconds))
		}
	}
	return errors.Join(errs...)
}
