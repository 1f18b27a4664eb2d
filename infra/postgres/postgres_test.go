package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A transaction helper that reports a failed commit as success loses data
// silently (wild-workouts' known bug): the commit's own failure must surface.
func TestInTxReportsAFailedCommit(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE deferred (x int, CONSTRAINT one UNIQUE (x) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO deferred VALUES (1), (1)`) // fails only at COMMIT
		return err
	})
	if err == nil {
		t.Fatal("InTx returned nil for a commit that failed")
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM deferred`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows survived a failed commit", n)
	}
}

func TestInTxRollsBackWhenFnFails(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n)
	if n != 0 {
		t.Fatal("rows of a failed fn were committed")
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	pool := pgtest.New(t) // already migrated once
	if err := postgres.Migrate(context.Background(), pool, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}
