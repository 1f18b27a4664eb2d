// Package pgcluster runs the private PostgreSQL cluster of the embedded
// default: initdb on first use, pg_ctl start/stop, all from the machine's
// PostgreSQL binaries, under a data directory the cluster keeps across
// restarts. As root it runs the binaries as the postgres user, because
// PostgreSQL refuses to run as root.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when no PostgreSQL server binaries are found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15 or newer (Debian/Ubuntu: apt-get install postgresql postgresql-contrib), or set DATABASE_URL to use an external server")

// Config says where the cluster lives.
type Config struct {
	// Dir holds the cluster (Dir/data), its log and its connection facts.
	Dir string
	// BinDir overrides where initdb and pg_ctl are looked up.
	BinDir string
	// Port for a new cluster; 0 picks a free one. An existing cluster keeps its own.
	Port int
	// StartTimeout bounds pg_ctl start (default 60s).
	StartTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
}

// Validate reports every problem of the config at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("pgcluster: Dir is required"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("pgcluster: Port %d out of range", c.Port))
	}
	return errors.Join(errs...)
}

// facts are what a later process needs to connect; kept in Dir/cluster.json (0600).
type facts struct {
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
}

// Cluster is a running private cluster.
type Cluster struct {
	cfg     Config
	bin     string
	facts   facts
	started bool // this process started it, so it stops it
	runAs   *syscall.Credential
}

// Start initialises the cluster if needed and starts it unless it already
// runs (another process of ours started it; then Stop leaves it running,
// unless adopt is set: a long-running server adopts a cluster left behind by
// a crash so that it is stopped on shutdown).
func Start(ctx context.Context, cfg Config, adopt bool) (*Cluster, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bin, err := findBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	cfg.Dir = dir
	c := &Cluster{cfg: cfg, bin: bin}
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			return nil, err
		}
		c.runAs = cred
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: create %s: %w", dir, err)
	}
	if err := c.ensureInitialised(ctx); err != nil {
		return nil, err
	}
	running, err := c.running(ctx)
	if err != nil {
		return nil, err
	}
	if !running {
		if err := c.start(ctx); err != nil {
			return nil, err
		}
		c.started = true
	} else if adopt {
		c.started = true
	}
	return c, nil
}

// URL is the superuser connection string of the cluster, for database name db.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.facts.User, c.facts.Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.facts.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port is the TCP port the cluster listens on (127.0.0.1 only).
func (c *Cluster) Port() int { return c.facts.Port }

// Started reports whether Stop will stop the server.
func (c *Cluster) Started() bool { return c.started }

// Stop stops the server if this process started (or adopted) it: a fast
// shutdown, which lets in-flight transactions roll back and flushes the rest.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.started {
		return nil
	}
	c.started = false
	out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, lastLines(out))
	}
	return nil
}

func (c *Cluster) dataDir() string   { return filepath.Join(c.cfg.Dir, "data") }
func (c *Cluster) factsFile() string { return filepath.Join(c.cfg.Dir, "cluster.json") }
func (c *Cluster) logFile() string   { return filepath.Join(c.cfg.Dir, "postgres.log") }

func (c *Cluster) ensureInitialised(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		raw, err := os.ReadFile(c.factsFile())
		if err != nil {
			return fmt.Errorf("pgcluster: cluster in %s has no %s: %w", c.dataDir(), filepath.Base(c.factsFile()), err)
		}
		if err := json.Unmarshal(raw, &c.facts); err != nil {
			return fmt.Errorf("pgcluster: read %s: %w", c.factsFile(), err)
		}
		return nil
	}
	// A half-made data dir from an interrupted initdb is removed and made again.
	if err := os.RemoveAll(c.dataDir()); err != nil {
		return fmt.Errorf("pgcluster: clean %s: %w", c.dataDir(), err)
	}
	port := c.cfg.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		port = p
	}
	c.facts = facts{Port: port, User: "hustmusik", Password: randomHex(24)}

	pwFile := filepath.Join(c.cfg.Dir, ".pwfile")
	if err := os.WriteFile(pwFile, []byte(c.facts.Password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer os.Remove(pwFile)
	if err := os.Mkdir(c.dataDir(), 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if c.runAs != nil {
		for _, p := range []string{c.cfg.Dir, c.dataDir(), pwFile} {
			if err := os.Chown(p, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
				return fmt.Errorf("pgcluster: chown %s to postgres: %w", p, err)
			}
		}
	}
	out, err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", c.facts.User, "--pwfile", pwFile,
		"--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8")
	if err != nil {
		os.RemoveAll(c.dataDir())
		if strings.Contains(string(out), "Permission denied") && c.runAs != nil {
			return fmt.Errorf("pgcluster: initdb as postgres cannot use %s (every parent directory must be readable by the postgres user): %s", c.cfg.Dir, lastLines(out))
		}
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, lastLines(out))
	}
	conf := fmt.Sprintf("\n# hustmusik embedded cluster\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nmax_connections = 200\nshared_buffers = 256MB\nlog_min_messages = warning\n", port)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	raw, _ := json.Marshal(c.facts)
	// Written last: its presence with PG_VERSION means the cluster is complete.
	if err := os.WriteFile(c.factsFile(), raw, 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

func (c *Cluster) running(ctx context.Context) (bool, error) {
	out, err := c.run(ctx, "pg_ctl", "status", "-D", c.dataDir())
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 { // 3: not running
		return false, nil
	}
	return false, fmt.Errorf("pgcluster: pg_ctl status: %w: %s", err, lastLines(out))
}

func (c *Cluster) start(ctx context.Context) error {
	if c.runAs != nil {
		// The log file must be writable by postgres.
		f, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			os.Chown(c.logFile(), int(c.runAs.Uid), int(c.runAs.Gid))
		}
	}
	secs := strconv.Itoa(int(c.cfg.StartTimeout.Seconds()))
	out, err := c.run(ctx, "pg_ctl", "start", "-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", secs)
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl start (log in %s): %w: %s", c.logFile(), err, lastLines(out))
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.Dir = c.cfg.Dir
	// pg_ctl start leaves the postmaster running after we return: give it its
	// own process group so a Ctrl-C to us does not kill it mid-shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.runAs != nil {
		cmd.SysProcAttr.Credential = c.runAs
		cmd.Env = append(cmd.Env, "HOME="+c.cfg.Dir)
	}
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	// pg_ctl start's postmaster inherits our pipes unless it is given a log
	// file; with -l it does not, so Wait returns.
	err := cmd.Run()
	return buf.Bytes(), err
}

func findBinDir(override string) (string, error) {
	has := func(dir string) bool {
		for _, n := range []string{"initdb", "pg_ctl", "postgres"} {
			if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if override != "" {
		if has(override) {
			return override, nil
		}
		return "", fmt.Errorf("%w (looked in %s)", ErrNotInstalled, override)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// A symlink on PATH (/usr/local/bin/initdb -> .../15/bin/initdb):
		// use the real folder, where the matching postgres binary is.
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	// Debian and Ubuntu keep them off PATH, one folder per major version.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs2, _ := filepath.Glob("/usr/pgsql-*/bin") // RPM layout
	dirs = append(dirs, dirs2...)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func versionOf(binDir string) int {
	base := filepath.Base(filepath.Dir(binDir))
	base = strings.TrimPrefix(base, "pgsql-")
	n, _ := strconv.Atoi(strings.Split(base, ".")[0])
	return n
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs a postgres user to run the cluster as (it comes with the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func lastLines(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// WaitReady waits until the server accepts TCP connections (pg_ctl -w already
// waits; this covers a cluster found running but still starting up).
func (c *Cluster) WaitReady(ctx context.Context) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.facts.Port))
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: server on %s not reachable: %w", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
