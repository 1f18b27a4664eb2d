package pgtest_test

import (
	"context"
	"testing"

	"github.com/hustmusik/backend/infra/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestFreshDatabasesAreMigratedAndIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.New(t), pgtest.New(t)
	var ext int
	if err := a.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm','unaccent')").Scan(&ext); err != nil {
		t.Fatal(err)
	}
	if ext != 2 {
		t.Fatalf("extensions installed: %d, want 2", ext)
	}
	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("databases of two tests share tables")
	}
}
