package s3blob

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/blobtest"
)

const (
	testAccess = "hustmusiktestkey"
	testSecret = "hustmusik-test-secret-0123456789"
)

// versitygwBinary finds versitygw where `make deps` installs it.
func versitygwBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
			dirs = append(dirs, strings.TrimSpace(lines[0]))
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	t.Fatalf("versitygw not found on PATH nor in %v: run `make deps` (it runs scripts/ensure-versitygw.sh)", dirs)
	return ""
}

// startGateway runs a versitygw with a posix backend in a temporary
// directory until the test ends, and returns its endpoint.
func startGateway(t *testing.T) string {
	t.Helper()
	bin := versitygwBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root := t.TempDir()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--access", testAccess, "--secret", testSecret, "--port", addr, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	endpoint := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("versitygw exited: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(endpoint); err == nil {
			resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s within 20 s\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newStore(t *testing.T, endpoint, bucket string) *Store {
	t.Helper()
	s, err := New(Config{Endpoint: endpoint, Bucket: bucket, AccessKeyID: testAccess, SecretAccessKey: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3(t *testing.T) {
	endpoint := startGateway(t)
	ctx := context.Background()
	s := newStore(t, endpoint, "hustmusik")
	for i := 0; i < 2; i++ { // the second call finds the bucket
		if err := s.EnsureBucket(ctx); err != nil {
			t.Fatalf("EnsureBucket (call %d): %v", i+1, err)
		}
	}

	t.Run("Conformance", func(t *testing.T) {
		// Subtests share the gateway and the bucket; their keys are fresh.
		blobtest.Run(t, func(t *testing.T) (blob.Store, *http.Client) {
			return s, &http.Client{Timeout: 30 * time.Second}
		})
	})

	t.Run("WrongSecretRefused", func(t *testing.T) {
		bad, err := New(Config{Endpoint: endpoint, Bucket: "hustmusik", AccessKeyID: testAccess, SecretAccessKey: "not-the-secret-0123456789"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := bad.Put(ctx, blob.AudioKey("x"), blob.AudioContentType, strings.NewReader("x"), 1); err == nil {
			t.Fatal("Put with a wrong secret succeeded")
		}
		u, err := bad.PresignPut(ctx, blob.AudioKey("x"), blob.AudioContentType, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader("x"))
		req.Header.Set("Content-Type", blob.AudioContentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("PUT to a URL signed with a wrong secret: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("MissingBucket", func(t *testing.T) {
		other := newStore(t, endpoint, "no-such-bucket")
		err := other.Put(ctx, blob.AudioKey("x"), blob.AudioContentType, strings.NewReader("x"), 1)
		if err == nil || errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), "bucket does not exist") {
			t.Errorf("Put into a missing bucket = %v, want a setup error that is not a 404", err)
		}
	})
}

func TestURL(t *testing.T) {
	s := newStore(t, "http://127.0.0.1:9000/", "media")
	if got, want := s.URL("images/users/1.png"), "http://127.0.0.1:9000/media/images/users/1.png"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	cdn, err := New(Config{Endpoint: "https://s3.example.com", Bucket: "media", AccessKeyID: "k", SecretAccessKey: "s", PublicURL: "https://cdn.example.com/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cdn.URL("images/users/1.png"), "https://cdn.example.com/images/users/1.png"; got != want {
		t.Errorf("URL with PublicURL = %q, want %q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := New(Config{Endpoint: "s3.example.com"}, nil)
	if err == nil {
		t.Fatal("New accepted a bad config")
	}
	for _, want := range []string{"Endpoint", "Bucket", "SecretAccessKey"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
