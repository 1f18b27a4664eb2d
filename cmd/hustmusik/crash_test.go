package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/infra/pgcluster"
	"github.com/hustmusik/backend/infra/pgtest"
)

// buildBinary builds the real binary (the Go build cache makes the second
// and later builds a link only).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hustmusik")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// service is one running `hustmusik serve` process.
type service struct {
	t    *testing.T
	bin  string
	env  []string
	base string
	cmd  *exec.Cmd
	logs *syncBuffer // replicas_test.go's
	done chan struct{}
}

// serviceEnv is the environment of a serve on databaseURL, listening on a
// free port; extra entries (KEY=value) win.
func serviceEnv(t *testing.T, databaseURL string, extra ...string) (env []string, base string) {
	port := freeTCPPort(t)
	env = append(os.Environ(), "DATABASE_URL="+databaseURL, "HUSTMUSIK_DATA_DIR="+t.TempDir(),
		fmt.Sprintf("HUSTMUSIK_ADDR=127.0.0.1:%d", port), fmt.Sprintf("PUBLIC_URL=http://127.0.0.1:%d", port),
		"JWT_SECRET=crash-secret-crash-secret-crash-secret-0", "ADMIN_EMAILS=admin@crash.vn",
		"HUSTMUSIK_AUTH_RATE_PER_MINUTE=1000000", "EVENTSTORE_URL=", "ELASTICSEARCH_URL=", "S3_ENDPOINT=", "CLOUDINARY_URL=")
	return append(env, extra...), fmt.Sprintf("http://127.0.0.1:%d", port)
}

func startService(t *testing.T, bin string, env []string, base string) *service {
	t.Helper()
	s := &service{t: t, bin: bin, env: env, base: base, logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(90 * time.Second)
	for {
		if res, err := http.Get(base + "/"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("serve exited before it was healthy:\n%s", s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become healthy:\n%s", s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill is kill -9: no shutdown code runs.
func (s *service) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop is a graceful SIGTERM.
func (s *service) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.kill()
		s.t.Fatalf("serve did not stop on SIGTERM:\n%s", s.logs.String())
	}
}

// reply is an HTTP answer; err is a transport failure (the process died).
type reply struct {
	status int
	header http.Header
	body   map[string]any
	err    error
}

var loadClient = &http.Client{Timeout: 15 * time.Second}

func call(base, method, path, token string, body any) reply {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := loadClient.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{err: err}
	}
	r := reply{status: res.StatusCode, header: res.Header}
	json.Unmarshal(raw, &r.body)
	return r
}

// position is the X-Position of an acknowledged write (0: not acknowledged).
func (r reply) position() uint64 {
	if r.err != nil || r.status/100 != 2 {
		return 0
	}
	p, _ := strconv.ParseUint(r.header.Get("X-Position"), 10, 64)
	return p
}

// ack is one acknowledged write: the stream its event must be in, at the
// position the answer gave.
type ack struct {
	stream, eventType string
	position          uint64
}

// ledger is what the clients were told: acknowledged writes, and the
// accounts and songs they may use next.
type ledger struct {
	mu     sync.Mutex
	acks   []ack
	users  []account
	songs  []string
	admin  account
	artist string
	seq    int
}

func (l *ledger) pick(rng *rand.Rand) (account, string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.users) == 0 || len(l.songs) == 0 {
		return account{}, "", false
	}
	return l.users[rng.IntN(len(l.users))], l.songs[rng.IntN(len(l.songs))], true
}

func (l *ledger) next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

// signedUp records an acknowledged sign-up (r) and keeps its account for
// later writes.
func (l *ledger) signedUp(r reply) {
	p := r.position()
	if p == 0 {
		return
	}
	user, _ := r.body["user"].(map[string]any)
	session, _ := r.body["session"].(map[string]any)
	a := account{id: fmt.Sprint(user["id"]), access: fmt.Sprint(session["access_token"])}
	l.record(ack{"user-" + a.id, "UserRegistered", p})
	l.mu.Lock()
	l.users = append(l.users, a)
	l.mu.Unlock()
}

func (l *ledger) record(a ack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acks = append(l.acks, a)
}

// writeLoad sends sign-ups, new songs and listens until stop closes or the
// service stops answering; every acknowledged write goes to the ledger.
// An answer other than 2xx from a live service is a test failure.
func writeLoad(t *testing.T, base string, l *ledger, seed uint64, stop <-chan struct{}) (writes int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for {
		select {
		case <-stop:
			return writes
		default:
		}
		var r reply
		switch op := rng.IntN(6); {
		case op == 0:
			n := l.next()
			email := fmt.Sprintf("u%d-%d@crash.vn", seed, n)
			r = call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": email, "password": "mat-khau-1", "username": "U" + strconv.Itoa(n)})
			l.signedUp(r)
		case op == 1:
			r = call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": fmt.Sprintf("Bài %d", l.next()), "artists": l.artist, "duration": 200})
			if p := r.position(); p > 0 {
				id := fmt.Sprint(r.body["data"].(map[string]any)["id"])
				l.record(ack{"song-" + id, "SongAdded", p})
				l.mu.Lock()
				l.songs = append(l.songs, id)
				l.mu.Unlock()
			}
		default:
			u, song, ok := l.pick(rng)
			if !ok {
				continue
			}
			r = call(base, "POST", "/v1/user/me/history/"+song, u.access, nil)
			if p := r.position(); p > 0 {
				l.record(ack{"listens-" + u.id, "ListenRecorded", p})
			}
		}
		if r.err != nil {
			return writes // the process is gone (or going)
		}
		if r.status/100 != 2 {
			t.Errorf("write answered %d: %v", r.status, r.body)
			return writes
		}
		writes++
	}
}

// readModelTables are the tables every projector writes: everything in the
// public schema but the log, the runtime's bookkeeping and the ordinary
// (non-projected) tables of credentials, sessions and request state.
func readModelTables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	notProjected := []string{"events", "streams", "projection_checkpoints", "parked_events", "idempotency_keys",
		"credentials", "sessions", "refresh_tokens", "oauth_states", "goose_db_version"}
	var out []string
	for _, n := range names {
		if !slices.Contains(notProjected, n) {
			out = append(out, n)
		}
	}
	return out
}

// dumpReadModels is every read-model row as text, table by table, sorted.
func dumpReadModels(t *testing.T, databaseURL string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	out := map[string][]string{}
	for _, table := range readModelTables(t, conn) {
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT t::text FROM public.%s t ORDER BY 1`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out[table] = lines
	}
	return out
}

// waitCaughtUp waits until every projector's checkpoint is at the log's
// head: none is stuck behind after a crash.
func waitCaughtUp(t *testing.T, databaseURL string, within time.Duration) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(within)
	for {
		var head int64
		var behind []string
		err := conn.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head)
		if err == nil {
			rows, qerr := conn.Query(ctx, `SELECT name || ' at ' || position FROM projection_checkpoints WHERE position < $1 ORDER BY name`, head)
			if qerr == nil {
				behind, err = pgx.CollectRows(rows, pgx.RowTo[string])
			} else {
				err = qerr
			}
		}
		if err == nil && len(behind) == 0 {
			var n int
			conn.QueryRow(ctx, `SELECT count(*) FROM projection_checkpoints`).Scan(&n)
			if n >= len(allProjectors()) {
				return
			}
			behind = []string{fmt.Sprintf("only %d checkpoints", n)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("projectors not at head %d after %s: %v %v", head, within, behind, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkAcknowledged: every acknowledged write's event is in the log, in the
// stream and of the type the answer implied, at the position it gave.
func checkAcknowledged(t *testing.T, databaseURL string, acks []ack) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A write may append to several streams (a song also credits its
	// artists): X-Position is its last event, and the event named here is
	// at or before it.
	for _, a := range acks {
		var atPosition, found bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE position = $3),
			EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND event_type = $2 AND position <= $3)`,
			a.stream, a.eventType, int64(a.position)).Scan(&atPosition, &found)
		if err != nil || !atPosition || !found {
			t.Errorf("acknowledged %s in %s at %d is not in the log (event at position: %v, event in stream: %v, %v)",
				a.eventType, a.stream, a.position, atPosition, found, err)
		}
	}
}

// checkCounts: the listen counters equal the log's ListenRecorded events
// (an event applied twice would count twice) and the users table holds
// one row per signed-up account.
func checkCounts(t *testing.T, databaseURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var listens, songPlays, userPlays, signups, users int64
	for q, dst := range map[string]*int64{
		`SELECT count(*) FROM events WHERE event_type = 'ListenRecorded'`: &listens,
		`SELECT coalesce(sum(plays), 0) FROM song_plays_daily`:            &songPlays,
		`SELECT coalesce(sum(plays), 0) FROM user_plays_daily`:            &userPlays,
		`SELECT count(*) FROM events WHERE event_type = 'UserRegistered'`: &signups,
		`SELECT count(*) FROM users`:                                      &users,
	} {
		if err := conn.QueryRow(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if songPlays != listens || userPlays != listens {
		t.Errorf("ListenRecorded events %d, plays per song %d, per user %d", listens, songPlays, userPlays)
	}
	if users != signups {
		t.Errorf("UserRegistered events %d, users rows %d", signups, users)
	}
	if listens == 0 || signups < 2 {
		t.Errorf("the load wrote too little to prove anything: %d listens, %d sign-ups", listens, signups)
	}
}

// checkRebuildEqual stops nothing: the caller has stopped serve. It dumps
// every read model, rebuilds them all from the log with the real CLI, and
// compares row for row.
func checkRebuildEqual(t *testing.T, bin string, env []string, databaseURL string) {
	t.Helper()
	before := dumpReadModels(t, databaseURL)
	cmd := exec.Command(bin, "projections", "rebuild", "all")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("projections rebuild all: %v\n%s", err, out)
	}
	after := dumpReadModels(t, databaseURL)
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("read model %s differs from its rebuild: %d rows before, %d after\nfirst before: %q\nfirst after:  %q",
				table, len(rows), len(after[table]), firstDiff(rows, after[table]), firstDiff(after[table], rows))
		}
	}
	if len(before["users"]) == 0 || len(before["listen_history"]) == 0 {
		t.Fatalf("read models are empty: nothing was compared (%v)", keysOf(before))
	}
}

func firstDiff(a, b []string) string {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return x
		}
	}
	return ""
}

func keysOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// seedLedger signs up the Admin and adds the artist every song credits.
func seedLedger(t *testing.T, base string) *ledger {
	t.Helper()
	l := &ledger{}
	r := call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": "admin@crash.vn", "password": "mat-khau-1", "username": "Admin"})
	if r.position() == 0 {
		t.Fatalf("admin sign-up: %d %v %v", r.status, r.body, r.err)
	}
	user, _ := r.body["user"].(map[string]any)
	session, _ := r.body["session"].(map[string]any)
	l.admin = account{id: fmt.Sprint(user["id"]), access: fmt.Sprint(session["access_token"])}
	l.record(ack{"user-" + l.admin.id, "UserRegistered", r.position()})
	r = call(base, "POST", "/v1/artist", l.admin.access, map[string]string{"name": "Sơn Tùng M-TP"})
	if r.position() == 0 {
		t.Fatalf("add artist: %d %v %v", r.status, r.body, r.err)
	}
	l.artist = fmt.Sprint(r.body["data"].(map[string]any)["id"])
	l.record(ack{"artist-" + l.artist, "ArtistAdded", r.position()})
	return l
}

// TestCrashKill9UnderLoad: the real binary on a real database, under
// concurrent writes, is killed with SIGKILL at random moments, three times.
// After each restart every acknowledged write is in the log and no
// projector is stuck; at the end the listen counters match the log (no
// event applied twice) and every read model equals its rebuild from the log.
func TestCrashKill9UnderLoad(t *testing.T) {
	bin := buildBinary(t)
	dbURL := pgtest.URL(t)
	env, base := serviceEnv(t, dbURL)
	svc := startService(t, bin, env, base)
	l := seedLedger(t, base)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const rounds, workers = 3, 4
	for round := range rounds {
		if round > 0 {
			svc = startService(t, bin, env, base)
			checkAcknowledged(t, dbURL, l.acks)
			waitCaughtUp(t, dbURL, 30*time.Second)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		counts := make([]int, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[w] = writeLoad(t, base, l, uint64(round*workers+w+1), stop)
			}()
		}
		// Kill at a random moment while the writers are busy.
		time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond)
		svc.kill()
		close(stop)
		wg.Wait()
		t.Logf("round %d: killed after %v acknowledged writes (per worker), %d in the ledger", round+1, counts, len(l.acks))
	}
	svc = startService(t, bin, env, base)
	checkAcknowledged(t, dbURL, l.acks)
	waitCaughtUp(t, dbURL, 30*time.Second)
	// The restarted service serves what was acknowledged.
	l.mu.Lock()
	u := l.users[len(l.users)-1]
	l.mu.Unlock()
	if r := call(base, "GET", "/v1/user/me", u.access, nil); r.status != 200 {
		t.Fatalf("GET /v1/user/me of an acknowledged account after the crashes: %d %v", r.status, r.body)
	}
	svc.stop()
	checkCounts(t, dbURL)
	checkRebuildEqual(t, bin, env, dbURL)
}

// TestCrashPostgresRestartUnderLoad: the service runs on a private
// PostgreSQL cluster that is stopped under write load, once with a fast
// shutdown and once with an immediate one (SIGQUIT to the postmaster, what
// pg_ctl -m immediate sends), and started again. The service is never
// restarted: writes succeed again within seconds, the projectors catch up
// and their subscriptions resume (a new write is visible through them).
func TestCrashPostgresRestartUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	// The cluster runs as the postgres user when we are root.
	for d := filepath.Dir(dir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	cfg := pgcluster.Config{Dir: dir}
	cluster, err := pgcluster.Start(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop(context.Background()) })
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE hust"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	dbURL := cluster.URL("hust")

	env, base := serviceEnv(t, dbURL)
	startService(t, bin, env, base)
	l := seedLedger(t, base)
	// One listener and one song exist before the first outage.
	r := call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": "lan@crash.vn", "password": "mat-khau-1"})
	s := call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": "Lạc Trôi", "artists": l.artist})
	if r.position() == 0 || s.position() == 0 {
		t.Fatalf("seed: %d %v / %d %v", r.status, r.body, s.status, s.body)
	}
	l.users = append(l.users, account{id: fmt.Sprint(r.body["user"].(map[string]any)["id"]),
		access: fmt.Sprint(r.body["session"].(map[string]any)["access_token"])})
	l.songs = append(l.songs, fmt.Sprint(s.body["data"].(map[string]any)["id"]))

	for round, mode := range []string{"fast", "immediate"} {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				postgresOutageLoad(base, l, uint64(100*round+w+1), stop)
			}()
		}
		time.Sleep(time.Second)
		if mode == "fast" {
			if err := cluster.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
			if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
				t.Fatal(err)
			}
			for syscall.Kill(pid, 0) == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		time.Sleep(2 * time.Second) // the service runs without its database a while
		if cluster, err = pgcluster.Start(ctx, cfg, false); err != nil {
			t.Fatalf("restart the cluster (%s): %v", mode, err)
		}
		close(stop)
		wg.Wait()

		// Writes work again within seconds, without restarting the service.
		restarted := time.Now()
		// A new song always appends (a repeated listen may be folded into
		// the last one and append nothing).
		var pos uint64
		var failures []string
		for pos == 0 {
			r := call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": fmt.Sprintf("Bài %d", l.next()), "artists": l.artist})
			if pos = r.position(); pos > 0 {
				l.record(ack{"song-" + fmt.Sprint(r.body["data"].(map[string]any)["id"]), "SongAdded", pos})
				break
			}
			failures = append(failures, fmt.Sprintf("%s %d %v %v", time.Since(restarted).Round(time.Millisecond), r.status, r.body, r.err))
			if time.Since(restarted) > 30*time.Second {
				t.Fatalf("after the %s restart writes still fail: %d %v %v", mode, r.status, r.body, r.err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s shutdown: writes succeed again %s after the cluster is back (%d failed attempts first: %q)",
			mode, time.Since(restarted).Round(time.Millisecond), len(failures), failures)
		// The subscriptions resumed: a new song reaches the read model and
		// every projector reaches the head.
		r := call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": "Sau sự cố " + mode, "artists": l.artist})
		if r.position() == 0 {
			t.Fatalf("add song after the %s restart: %d %v", mode, r.status, r.body)
		}
		id := fmt.Sprint(r.body["data"].(map[string]any)["id"])
		g := call(base, "GET", "/v1/song/"+id, "", nil)
		if g.status != 200 || g.body["title"] != "Sau sự cố "+mode {
			t.Fatalf("the new song is not served after the %s restart: %d %v", mode, g.status, g.body)
		}
		waitCaughtUp(t, dbURL, 30*time.Second)
		checkAcknowledged(t, dbURL, l.acks)
	}
	checkCounts(t, dbURL)
}

// postgresOutageLoad writes like writeLoad but keeps going through errors:
// while the database is down answers are 5xx, which acknowledge nothing.
func postgresOutageLoad(base string, l *ledger, seed uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 9))
	for {
		select {
		case <-stop:
			return
		default:
		}
		if rng.IntN(3) == 0 {
			n := l.next()
			r := call(base, "POST", "/v1/auth/signup", "", map[string]string{"email": fmt.Sprintf("pg%d-%d@crash.vn", seed, n), "password": "mat-khau-1"})
			l.signedUp(r)
			continue
		}
		if rng.IntN(2) == 0 {
			r := call(base, "POST", "/v1/song", l.admin.access, map[string]any{"title": fmt.Sprintf("Bài %d", l.next()), "artists": l.artist})
			if p := r.position(); p > 0 {
				id := fmt.Sprint(r.body["data"].(map[string]any)["id"])
				l.record(ack{"song-" + id, "SongAdded", p})
				l.mu.Lock()
				l.songs = append(l.songs, id)
				l.mu.Unlock()
			}
			continue
		}
		if u, song, ok := l.pick(rng); ok {
			r := call(base, "POST", "/v1/user/me/history/"+song, u.access, nil)
			if p := r.position(); p > 0 {
				l.record(ack{"listens-" + u.id, "ListenRecorded", p})
			}
		}
	}
}
