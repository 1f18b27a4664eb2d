package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestServer(t, func(c *Config) { c.Metrics = reg })
	s.Engine().GET("/v1/song/:id", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"id": c.Param("id")}) })
	for _, id := range []string{"a", "b", "c"} {
		if w := s.do(req{path: "/v1/song/" + id}); w.Code != 200 {
			t.Fatalf("GET: %d", w.Code)
		}
	}
	s.do(req{path: "/nowhere"})
	s.do(req{method: http.MethodOptions, path: "/v1/song/a", headers: map[string]string{"Origin": frontend}})

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hustmusik_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			got[strings.Join(key, ",")] = m.GetCounter().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"method=GET,route=/v1/song/:id,status=200":   3,
		"method=GET,route=(no route),status=404":     1,
		"method=OPTIONS,route=(no route),status=204": 1,
	} {
		if got[key] != want {
			t.Errorf("requests{%s} = %v, want %v (all: %v)", key, got[key], want, got)
		}
	}
	w := s.do(req{path: "/metrics"})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `hustmusik_http_request_duration_seconds_count{method="GET",route="/v1/song/:id"} 3`) {
		t.Errorf("/metrics %d:\n%s", w.Code, w.Body.String())
	}
	if strings.Contains(w.Body.String(), `/v1/song/a"`) {
		t.Error("a raw path became a label")
	}
}

func TestReadyzRunsEveryCheck(t *testing.T) {
	var dbDown bool
	s := newTestServer(t, func(c *Config) {
		c.Ready = []ReadyCheck{
			{Name: "database", Check: func(context.Context) error {
				if dbDown {
					return errors.New("connection refused")
				}
				return nil
			}},
			{Name: "slow", Check: func(ctx context.Context) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Millisecond):
					return nil
				}
			}},
		}
	})
	if w := s.do(req{path: "/readyz"}); w.Code != 200 || w.Body.String() != `{"status":"ready"}` {
		t.Errorf("ready: %d %s", w.Code, w.Body.String())
	}
	dbDown = true
	w := s.do(req{path: "/readyz"})
	body := jsonBody(t, w)
	failed, _ := body["failed"].(map[string]any)
	if w.Code != 503 || body["status"] != "not ready" || failed["database"] != "connection refused" || failed["slow"] != nil {
		t.Errorf("database down: %d %v", w.Code, body)
	}
	// Without a registry there is no /metrics.
	if w := s.do(req{path: "/metrics"}); w.Code != 404 {
		t.Errorf("/metrics without a registry: %d", w.Code)
	}
}
