package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/eventstore/esdbstore"
	"github.com/hustmusik/backend/infra/eventstore/pgstore"
	"github.com/hustmusik/backend/infra/pgcluster"
	"github.com/hustmusik/backend/infra/postgres"
)

// env is what every command stands on: the database (the private cluster or
// DATABASE_URL), migrated, and the event store: KurrentDB when
// EVENTSTORE_URL is set, else the events table of that same database.
// PostgreSQL holds the read models, checkpoints and credentials either way.
type env struct {
	cluster    *pgcluster.Cluster
	pool       *pgxpool.Pool
	store      eventstore.Store
	closeStore func()
	logger     *slog.Logger
}

// openEnv starts (or joins) the private cluster unless DATABASE_URL is set,
// connects, applies migrations and opens the event store. A long-running
// server adopts a cluster it finds running, so it stops it on shutdown.
func openEnv(ctx context.Context, cfg config.Config, logger *slog.Logger, adopt bool) (*env, error) {
	e := &env{logger: logger}
	url := cfg.DatabaseURL
	if url == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(cfg.DataDir, "pg")}, adopt)
		if err != nil {
			return nil, err
		}
		e.cluster = c
		if err := c.WaitReady(ctx); err != nil {
			e.Close()
			return nil, err
		}
		if err := ensureDatabase(ctx, c.URL("postgres"), "hustmusik"); err != nil {
			e.Close()
			return nil, err
		}
		url = c.URL("hustmusik")
		logger.Info("embedded PostgreSQL", "dir", filepath.Join(cfg.DataDir, "pg"), "port", c.Port(), "started_here", c.Started())
	}
	pool, err := postgres.Connect(ctx, url, 40)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.pool = pool
	if err := postgres.Migrate(ctx, pool, logger); err != nil {
		e.Close()
		return nil, err
	}
	if cfg.EventStoreURL != "" {
		store, err := esdbstore.New(esdbstore.Config{URL: cfg.EventStoreURL}, logger)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.store, e.closeStore = store, store.Close
		logger.Info("event store: KurrentDB (EVENTSTORE_URL)")
		return e, nil
	}
	store, err := pgstore.New(pgstore.Config{}, pool, logger)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.store, e.closeStore = store, store.Close
	return e, nil
}

// Close releases everything in reverse order, stopping the cluster if this
// process started it.
func (e *env) Close() {
	if e.closeStore != nil {
		e.closeStore()
	}
	if e.pool != nil {
		e.pool.Close()
	}
	if e.cluster != nil {
		if err := e.cluster.Stop(context.Background()); err != nil {
			e.logger.Error("stop embedded PostgreSQL", "err", err)
		}
	}
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	pool, err := postgres.Connect(ctx, adminURL, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := pool.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		// Another process may have created it at the same moment.
		if err2 := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err2 == nil && exists {
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
