package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/pgtest"
)

// replica is one `hustmusik serve` process of the test.
type replica struct {
	name string
	base string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// withAppName sets the PostgreSQL application_name of every connection of a
// process, so pg_stat_activity tells which replica holds which lock.
func withAppName(t *testing.T, dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func startReplica(t *testing.T, bin, name, dbURL string) *replica {
	t.Helper()
	port := freeTCPPort(t)
	r := &replica{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+withAppName(t, dbURL, name),
		"EVENTSTORE_URL=", "ELASTICSEARCH_URL=", "S3_ENDPOINT=", "CLOUDINARY_URL=", "ADMIN_EMAILS=",
		"JWT_SECRET=replicas-test-secret-0123456789abcdef",
		"HUSTMUSIK_DATA_DIR="+filepath.Join(t.TempDir(), name),
		fmt.Sprintf("HUSTMUSIK_ADDR=127.0.0.1:%d", port),
		fmt.Sprintf("PUBLIC_URL=http://127.0.0.1:%d", port),
	)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(r.base + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return r
			}
		}
		select {
		case <-r.done:
			t.Fatalf("%s exited before serving:\n%s", name, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy:\n%s", name, r.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call sends a JSON request and returns the status, X-Position and body.
func (r *replica) call(t *testing.T, method, path string, body any, headers map[string]string) (int, uint64, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, r.name, err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	pos, _ := strconv.ParseUint(res.Header.Get("X-Position"), 10, 64)
	return res.StatusCode, pos, m
}

// projectorLockKey mirrors projections.lockKey (FNV-1a of "projector:"+name),
// which the runtime promises never to change across releases.
func projectorLockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("projector:" + name))
	return int64(h.Sum64())
}

// lockHolders maps each projector to the application_names of the sessions
// holding its advisory lock.
func lockHolders(t *testing.T, db *pgxpool.Pool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range allProjectors() {
		rows, err := db.Query(context.Background(), `
			SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1`, projectorLockKey(p.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var app string
			if err := rows.Scan(&app); err != nil {
				t.Fatal(err)
			}
			out[p.Name()] = append(out[p.Name()], app)
		}
		rows.Close()
	}
	return out
}

// waitForPlacement waits until every projector's lock is held by exactly one
// session, all of them in one of the allowed replicas.
func waitForPlacement(t *testing.T, db *pgxpool.Pool, within time.Duration, allowed ...string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		holders := lockHolders(t, db)
		placed := map[string]string{}
		ok := true
		for _, p := range allProjectors() {
			h := holders[p.Name()]
			if len(h) > 1 {
				t.Fatalf("projector %s runs in %d sessions at once: %v", p.Name(), len(h), h)
			}
			if len(h) == 0 || !contains(allowed, h[0]) {
				ok = false
				continue
			}
			placed[p.Name()] = h[0]
		}
		if ok {
			return placed
		}
		if time.Now().After(deadline) {
			t.Fatalf("projectors not all placed in %v within %s: %v", allowed, within, holders)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestReplicasShareOneDatabase runs two `serve` processes on one database:
// both serve writes and reads, each projector runs in exactly one of them,
// and when that process is killed the other takes its projectors over
// without losing or repeating anything.
func TestReplicasShareOneDatabase(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hustmusik")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := pgtest.URL(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	a := startReplica(t, bin, "replica-a", dbURL)
	b := startReplica(t, bin, "replica-b", dbURL)
	replicas := []*replica{a, b}
	placed := waitForPlacement(t, db, 15*time.Second, a.name, b.name)

	signups := 0
	signUp := func(via, readVia *replica) {
		t.Helper()
		signups++
		email := fmt.Sprintf("user%d-%s@example.vn", signups, via.name)
		st, pos, m := via.call(t, "POST", "/v1/auth/signup", map[string]string{"email": email, "password": "mat-khau-1", "username": fmt.Sprintf("Người %d", signups)}, nil)
		if st != 200 || pos == 0 {
			t.Fatalf("signup on %s: %d, X-Position %d, %v", via.name, st, pos, m)
		}
		user, _ := m["user"].(map[string]any)
		id, _ := user["id"].(string)
		if id == "" {
			t.Fatalf("signup answer has no user id: %v", m)
		}
		// Read your writes through the other replica.
		st, _, got := readVia.call(t, "GET", "/v1/user/"+id, nil, map[string]string{"X-Min-Position": strconv.FormatUint(pos, 10)})
		if st != 200 {
			t.Fatalf("user %s written on %s, read on %s at X-Min-Position %d: %d %v", id, via.name, readVia.name, pos, st, got)
		}
	}
	for i := 0; i < 6; i++ {
		signUp(replicas[i%2], replicas[(i+1)%2])
	}

	// Kill -9 the replica running the most projectors: no clean unlock, the
	// database notices the dead session and frees its locks.
	count := map[string]int{}
	for _, holder := range placed {
		count[holder]++
	}
	victim, survivor := a, b
	if count[b.name] > count[a.name] {
		victim, survivor = b, a
	}
	t.Logf("projector placement %v; killing %s", placed, victim.name)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	killedAt := time.Now()

	for i := 0; i < 4; i++ {
		signUp(survivor, survivor)
	}
	waitForPlacement(t, db, 10*time.Second, survivor.name)
	t.Logf("%s runs every projector %s after the kill", survivor.name, time.Since(killedAt).Round(time.Millisecond))

	// Every projector catches up to the head; each event was applied once:
	// one users row per registration, nothing parked (a repeated insert
	// would fail and be parked).
	var head int64
	if err := db.QueryRow(context.Background(), `SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var behind int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM projection_checkpoints WHERE position < $1`, head).Scan(&behind); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM projection_checkpoints`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if behind == 0 && n >= len(allProjectors()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d projectors still behind head %d:\n%s", behind, n, head, survivor.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var registered, rows, parked int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = 'UserRegistered'`).Scan(&registered); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM parked_events`).Scan(&parked); err != nil {
		t.Fatal(err)
	}
	if registered != signups || rows != signups || parked != 0 {
		t.Fatalf("%d signups, %d UserRegistered events, %d users rows, %d parked events", signups, registered, rows, parked)
	}
}
