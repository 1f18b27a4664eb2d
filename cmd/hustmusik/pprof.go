package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves net/http/pprof on addr (HUSTMUSIK_PPROF_ADDR, loopback
// only, checked by the config) until ctx ends; "" serves nothing. It has its
// own mux and listener: the profiles never sit behind the API's routes,
// middleware or public address. The returned channel closes once it stopped.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) (<-chan struct{}, error) {
	done := make(chan struct{})
	if addr == "" {
		close(done)
		return done, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		close(done)
		return done, fmt.Errorf("pprof: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(done)
		err := srv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("pprof server stopped", "error", err)
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	logger.Info("pprof serving (HUSTMUSIK_PPROF_ADDR)", "addr", ln.Addr().String())
	return done, nil
}
