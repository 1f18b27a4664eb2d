// Package pgtest gives tests a real PostgreSQL: each test gets a fresh,
// migrated database of its own. The server is the one named by
// HUSTMUSIK_TEST_DATABASE_URL (a superuser URL; `make test` starts one), or
// else a private cluster this test binary starts from the machine's
// PostgreSQL binaries and stops at the end.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/pgcluster"
	"github.com/hustmusik/backend/infra/postgres"
)

// EnvURL names the server tests use instead of starting their own.
const EnvURL = "HUSTMUSIK_TEST_DATABASE_URL"

var (
	mu       sync.Mutex
	adminURL string
	template string
	cluster  *pgcluster.Cluster
	tmpDir   string
)

// Main wraps testing.M.Run: call it from TestMain of every package whose
// tests use New, so that a private cluster, if one was started, is stopped.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if template != "" {
		if conn, err := pgx.Connect(context.Background(), adminURL); err == nil {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize())
			conn.Close(context.Background())
		}
	}
	if cluster != nil {
		cluster.Stop(context.Background())
		os.RemoveAll(tmpDir)
	}
	mu.Unlock()
	os.Exit(code)
}

// URL returns the URL of a fresh migrated database that is dropped when the
// test ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := setup(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "t_" + randomHex(8)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize())); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return withDB(adminURL, name)
}

// New returns a pool on a fresh migrated database, closed and dropped when
// the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := URL(t)
	pool, err := postgres.Connect(context.Background(), u, 20)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func setup(ctx context.Context) error {
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		return nil
	}
	if adminURL == "" {
		if u := os.Getenv(EnvURL); u != "" {
			adminURL = u
		} else {
			dir, err := os.MkdirTemp("", "hustmusik-pgtest-")
			if err != nil {
				return err
			}
			os.Chmod(dir, 0o755)
			c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir}, true)
			if err != nil {
				os.RemoveAll(dir)
				return err
			}
			cluster, tmpDir = c, dir
			adminURL = c.URL("postgres")
		}
	}
	name := "tmpl_" + randomHex(8)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect %s: %w", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	pool, err := postgres.Connect(ctx, withDB(adminURL, name), 2)
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, pool, nil)
	pool.Close()
	if err != nil {
		return err
	}
	template = name
	return nil
}

func withDB(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
