package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryOnTheEmbeddedDefault drives the real binary as a newcomer would
// after `make run`: no DATABASE_URL, so it starts its own PostgreSQL; sign
// up, sign in, update the profile; stop it; start it again and find the user.
func TestBinaryOnTheEmbeddedDefault(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hustmusik")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The cluster runs as the postgres user when we are root: every parent
	// of the data dir must be traversable by it.
	dataDir := filepath.Join(t.TempDir(), "data")
	for d := filepath.Dir(dataDir); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	port := freeTCPPort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := append(os.Environ(), "HUSTMUSIK_DATA_DIR="+dataDir, fmt.Sprintf("HUSTMUSIK_ADDR=127.0.0.1:%d", port),
		"DATABASE_URL=", "JWT_SECRET=", "ADMIN_EMAILS=")

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "serve")
		cmd.Env = env
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(90 * time.Second)
		for {
			res, err := http.Get(base + "/")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return cmd, &logs
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("serve did not become healthy:\n%s", logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	stop := func(cmd *exec.Cmd, logs *bytes.Buffer) {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve exited with %v:\n%s", err, logs.String())
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("serve did not stop on SIGTERM:\n%s", logs.String())
		}
	}
	post := func(path, token string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return send(t, req)
	}
	get := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return send(t, req)
	}

	cmd, logs := start()
	if st, _ := post("/v1/auth/signup", "", map[string]string{"email": "lan@example.vn", "password": "mat-khau-1", "username": "Lan"}); st != 200 {
		stop(cmd, logs)
		t.Fatalf("signup %d", st)
	}
	st, m := post("/v1/auth/signin", "", map[string]string{"email": "lan@example.vn", "password": "mat-khau-1"})
	if st != 200 {
		t.Fatalf("signin %d %v", st, m)
	}
	tok := m["session"].(map[string]any)["access_token"].(string)
	if st, m := post("/v1/user/me", tok, map[string]string{"country": "Việt Nam"}); st != 200 {
		t.Fatalf("update %d %v", st, m)
	}
	stop(cmd, logs)
	// The private cluster stopped with the service.
	if _, err := os.Stat(filepath.Join(dataDir, "pg", "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still there after shutdown: %v", err)
	}

	cmd, logs = start()
	defer stop(cmd, logs)
	st, m = post("/v1/auth/signin", "", map[string]string{"email": "lan@example.vn", "password": "mat-khau-1"})
	if st != 200 {
		t.Fatalf("signin after restart %d %v", st, m)
	}
	tok = m["session"].(map[string]any)["access_token"].(string)
	st, m = get("/v1/user/me", tok)
	if st != 200 || m["data"].(map[string]any)["country"] != "Việt Nam" {
		t.Fatalf("profile after restart: %d %v", st, m)
	}
	// The logs are JSON lines and carry no secrets.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if strings.Contains(line, "mat-khau-1") || strings.Contains(line, tok) {
			t.Fatalf("log line leaks a secret: %s", line)
		}
	}
}

func send(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
