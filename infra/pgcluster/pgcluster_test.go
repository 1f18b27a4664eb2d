package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMissingInstallationIsOneClearLine(t *testing.T) {
	_, err := Start(context.Background(), Config{Dir: t.TempDir(), BinDir: t.TempDir()}, false)
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install postgresql") {
		t.Fatalf("message should be one line naming what to install: %q", msg)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Port: 70000}.Validate()
	if err == nil || !strings.Contains(err.Error(), "Dir is required") || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("Validate: %v", err)
	}
}

func TestVersionOrdering(t *testing.T) {
	if versionOf("/usr/lib/postgresql/16/bin") <= versionOf("/usr/lib/postgresql/9.6/bin") {
		t.Fatal("16 must sort above 9.6")
	}
	if versionOf("/usr/pgsql-15/bin") != 15 {
		t.Fatal("RPM layout")
	}
}

// A cluster keeps its data across stop and start, and a second process that
// finds it running uses it without stopping it.
func TestClusterKeepsDataAndIsShared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "pg")
	// As root the cluster runs as postgres: every parent must be traversable.
	for d := filepath.Dir(dir); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}

	first, err := Start(ctx, Config{Dir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop(context.Background()) })
	if !first.Started() {
		t.Fatal("the first process started the cluster and must own it")
	}
	execSQL(t, ctx, first.URL("postgres"), `CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`)

	second, err := Start(ctx, Config{Dir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	if second.Started() {
		t.Fatal("a process that found the cluster running must not own it")
	}
	if err := second.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, ctx, first.URL("postgres"), `SELECT x FROM kept`); got != 42 {
		t.Fatalf("after the second process left: %d", got)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("the server still runs after Stop")
	}

	again, err := Start(ctx, Config{Dir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop(context.Background())
	if again.Port() != first.Port() {
		t.Fatalf("port changed across restarts: %d then %d", first.Port(), again.Port())
	}
	if got := queryInt(t, ctx, again.URL("postgres"), `SELECT x FROM kept`); got != 42 {
		t.Fatalf("data lost across restart: %d", got)
	}
	info, err := os.Stat(filepath.Join(dir, "cluster.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("cluster.json holds the password and must be 0600: %v %v", info.Mode(), err)
	}
}

func execSQL(t *testing.T, ctx context.Context, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func queryInt(t *testing.T, ctx context.Context, url, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
