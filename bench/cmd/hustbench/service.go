package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// service is one run of the real binary on the embedded default.
type service struct {
	bin, dataDir string
	base         string // http://127.0.0.1:port
	pprofAddr    string
	cmd          *exec.Cmd
	logFile      *os.File
	exited       chan error
}

func buildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "hustmusik")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hustmusik")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hustmusik (run hustbench from the repository root): %w\n%s", err, out)
	}
	return bin, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startService starts the binary on dataDir, extraEnv (NAME=value) added to
// its environment, and returns once GET / answers 200, with the time that
// took from the process start.
func startService(ctx context.Context, bin, dataDir, logPath string, profile bool, extraEnv ...string) (*service, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	s := &service{bin: bin, dataDir: dataDir, base: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan error, 1)}
	env := append(os.Environ(),
		"HUSTMUSIK_DATA_DIR="+dataDir,
		fmt.Sprintf("HUSTMUSIK_ADDR=127.0.0.1:%d", port),
		// One IP signs up every listener of the run.
		"HUSTMUSIK_AUTH_RATE_PER_MINUTE=1000000",
		"ADMIN_EMAILS="+adminEmail,
		// The embedded default: nothing external.
		"DATABASE_URL=", "EVENTSTORE_URL=", "ELASTICSEARCH_URL=", "S3_ENDPOINT=", "S3_BUCKET=",
		"CLOUDINARY_URL=", "JWT_SECRET=", "HUSTMUSIK_LOG_LEVEL=info",
	)
	env = append(env, extraEnv...)
	if profile {
		pp, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		s.pprofAddr = fmt.Sprintf("127.0.0.1:%d", pp)
		env = append(env, "HUSTMUSIK_PPROF_ADDR="+s.pprofAddr)
	}
	s.logFile, err = os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, 0, err
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = env
	// The access log is part of the service's cost, so it is written to a
	// file as in production, not dropped.
	s.cmd.Stdout, s.cmd.Stderr = s.logFile, s.logFile
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		s.logFile.Close()
		return nil, 0, err
	}
	go func() { s.exited <- s.cmd.Wait() }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := began.Add(3 * time.Minute)
	for {
		res, err := client.Get(s.base + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, time.Since(began), nil
			}
		}
		select {
		case err := <-s.exited:
			s.logFile.Close()
			return nil, 0, fmt.Errorf("the service exited during start-up (%v); log: %s", err, tail(logPath))
		case <-ctx.Done():
			s.kill()
			return nil, 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, 0, fmt.Errorf("the service did not answer GET / in 3 minutes; log: %s", tail(logPath))
		}
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM (the service stops its private cluster too) and waits.
func (s *service) stop() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	defer s.logFile.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.cmd = nil
		if err != nil {
			return fmt.Errorf("the service exited with %w", err)
		}
		return nil
	case <-time.After(90 * time.Second):
		s.kill()
		return errors.New("the service did not stop within 90s of SIGTERM")
	}
}

func (s *service) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
	}
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux
// clear_refs 5), so each load reports its own peak.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSS is VmHWM of the process in MB.
func peakRSS(pid int) (float64, error) { return procStatusMB(pid, "VmHWM:") }

// currentRSS is VmRSS of the process in MB.
func currentRSS(pid int) (float64, error) { return procStatusMB(pid, "VmRSS:") }

func procStatusMB(pid int, field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// cpuProfile fetches a CPU profile of seconds from the service and writes
// it and its `go tool pprof -top` to out/profiles/name.*.
func (s *service) cpuProfile(ctx context.Context, out, name string, seconds int) error {
	if s.pprofAddr == "" {
		return nil
	}
	req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "GET",
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprofAddr, seconds), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile %s: %w", name, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		return fmt.Errorf("cpu profile %s: status %d: %v", name, res.StatusCode, err)
	}
	path := filepath.Join(out, "profiles", name+".cpu.pprof")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return err
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=35", s.bin, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof %s: %w\n%s", path, err, top)
	}
	cum, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=35", s.bin, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof -cum %s: %w\n%s", path, err, cum)
	}
	text := "# go tool pprof -top (flat)\n" + string(top) + "\n# go tool pprof -top -cum\n" + string(cum)
	return os.WriteFile(filepath.Join(out, "profiles", name+".top.txt"), []byte(text), 0o644)
}

func tail(path string) string {
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// api is a keep-alive HTTP client of the service.
type api struct {
	base   string
	client *http.Client
}

func newAPI(base string, conns int) *api {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &api{base: base, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a JSON body (nil: none) and decodes a JSON answer into out (nil:
// drained); a status other than want is an error.
func (a *api) do(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	return json.NewDecoder(res.Body).Decode(out)
}
