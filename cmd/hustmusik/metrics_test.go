package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/projections"
)

// sample finds the value of a series in a Prometheus text exposition: the
// line of metric name whose labels include every one of labels
// (`route="/v1/song/:id"`).
func sample(t *testing.T, exposition, name string, labels ...string) (float64, bool) {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("series line %q: %v", line, err)
		}
		return v, true
	}
	return 0, false
}

func TestMetricsEndpointHasTheExpectedSeries(t *testing.T) {
	api := newTestAPI(t, nil)
	lan := api.signUp("lan@example.vn", "Lan")
	for range 3 {
		api.expect(api.do("GET", "/v1/song", "", nil), 200)
	}
	api.expect(api.do("GET", "/v1/song/"+uuid.NewString(), "", nil), 404)
	api.expect(api.do("GET", "/v1/song/"+uuid.NewString(), "", nil), 404)
	api.expect(api.do("GET", "/v1/user/me", lan.access, nil), 200)
	api.expect(api.do("GET", "/no/such/route", "", nil), 404)

	body := string(api.expect(api.do("GET", "/metrics", "", nil), 200).body)
	checks := []struct {
		name   string
		labels []string
		want   float64 // -1: any value
	}{
		{"hustmusik_http_requests_total", []string{`route="/v1/song"`, `method="GET"`, `status="200"`}, 3},
		// The route pattern, never the raw path: two ids, one series.
		{"hustmusik_http_requests_total", []string{`route="/v1/song/:id"`, `method="GET"`, `status="404"`}, 2},
		{"hustmusik_http_requests_total", []string{`route="/v1/auth/signup"`, `method="POST"`, `status="200"`}, 1},
		{"hustmusik_http_requests_total", []string{`route="(no route)"`, `status="404"`}, 1},
		{"hustmusik_http_request_duration_seconds_count", []string{`route="/v1/song"`, `method="GET"`}, 3},
		{"hustmusik_http_request_duration_seconds_bucket", []string{`route="/v1/user/me"`, `le="+Inf"`}, 1},
		{"hustmusik_events_appended_total", []string{`type="UserRegistered"`}, 1},
		{"hustmusik_projection_position", []string{`projector="users"`}, -1},
		{"hustmusik_projection_lag_events", []string{`projector="users"`}, 0},
		{"hustmusik_projection_lag_seconds", []string{`projector="listenstats"`}, 0},
		{"hustmusik_projection_parked_events", []string{`projector="catalog"`}, 0},
		{"hustmusik_projection_head", nil, -1},
		{"hustmusik_projection_status_up", nil, 1},
		{"hustmusik_projection_batch_events_count", []string{`projector="users"`}, -1},
		{"hustmusik_projection_batch_duration_seconds_count", []string{`projector="users"`}, -1},
		{"go_goroutines", nil, -1},
	}
	for _, c := range checks {
		v, ok := sample(t, body, c.name, c.labels...)
		if !ok {
			t.Errorf("no series %s%v in /metrics", c.name, c.labels)
			continue
		}
		if c.want >= 0 && v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if strings.Contains(body, `route="/v1/song/`+"\"") || strings.Contains(body, lan.id) {
		t.Error("a raw path or id leaked into a label")
	}
	if pos, _ := sample(t, body, "hustmusik_projection_position", `projector="users"`); pos < 1 {
		t.Errorf("users projector position %v, want past the sign-up", pos)
	}
}

func TestMetricsReadyzFollowsDatabaseAndProjections(t *testing.T) {
	api := newTestAPI(t, nil)
	api.signUp("lan@example.vn", "Lan")
	r := api.expect(api.do("GET", "/readyz", "", nil), 200)
	if string(r.body) != `{"status":"ready"}` {
		t.Errorf("ready answer %s", r.body)
	}

	// A stuck projector: the runtime stops, the log goes on.
	api.stopProjections()
	data, _ := json.Marshal(map[string]string{"user_id": uuid.NewString(), "username": "Minh", "role": "User"})
	if _, err := api.app.env.store.Append(context.Background(), "user-"+uuid.NewString(), eventstore.NoStream(),
		eventstore.EventData{ID: uuid.New(), Type: "UserRegistered", Data: data, Metadata: eventstore.Metadata{OccurredAt: time.Now(), SchemaVersion: 1}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	*api.app.readiness = projections.Readiness{MaxLagSeconds: 20 * time.Millisecond}
	r = api.expect(api.do("GET", "/readyz", "", nil), 503)
	var ans struct {
		Status string            `json:"status"`
		Failed map[string]string `json:"failed"`
	}
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Status != "not ready" || !strings.Contains(ans.Failed["projections"], "users is 1 events") ||
		ans.Failed["database"] != "" || ans.Failed["eventstore"] != "" {
		t.Errorf("a lagging projector: %s", r.body)
	}
	// Within the default bounds (10 s, 10000 events) it is ready again.
	*api.app.readiness = projections.Readiness{}
	api.expect(api.do("GET", "/readyz", "", nil), 200)

	// The database goes away.
	api.app.env.pool.Close()
	r = api.expect(api.do("GET", "/readyz", "", nil), 503)
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Failed["database"] == "" || ans.Failed["eventstore"] == "" {
		t.Errorf("database down: %s", r.body)
	}
}
