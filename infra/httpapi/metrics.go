package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyCheck is one condition of GET /readyz: the database answers, the
// event store answers, the projections keep up.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// httpMetrics are the request metrics, labelled by route pattern (never
// the raw path: ids would make a series per song) and method.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hustmusik_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hustmusik_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("httpapi: register metrics: %w", err)
		}
	}
	return m, nil
}

// observe is the middleware: it runs first, so a request refused by any
// later middleware (CORS, body limit, rate limit) is counted too.
func (m *httpMetrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)" // a scan of random paths stays one series
	}
	method := c.Request.Method
	m.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// mountObservability adds GET /metrics (when a registry is configured) and
// GET /readyz.
func (s *Server) mountObservability() {
	if s.cfg.Metrics != nil {
		h := promhttp.HandlerFor(s.cfg.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
		s.engine.GET("/metrics", gin.WrapH(h))
	}
	s.engine.GET("/readyz", s.readyz)
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.logger.Warn("metrics: " + fmt.Sprint(v...)) }

// readyz answers 200 {"status":"ready"} when every check passes within the
// timeout, else 503 with the failed checks by name. The checks run at once.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	var (
		mu     sync.Mutex
		failed = map[string]string{}
		wg     sync.WaitGroup
	)
	for _, chk := range s.cfg.Ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := chk.Check(ctx); err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					err = errors.New("no answer in time")
				}
				mu.Lock()
				failed[chk.Name] = err.Error()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "failed": failed})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
