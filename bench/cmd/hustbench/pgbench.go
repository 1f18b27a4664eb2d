package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// findPgBin is the newest /usr/lib/postgresql/N/bin holding pgbench, unless
// given.
func findPgBin(override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			dir := strings.TrimSpace(string(out))
			if _, err := os.Stat(filepath.Join(dir, "pgbench")); err == nil {
				return dir, nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pgbench")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgbench not found: install postgresql-contrib (or pass -pgbin)")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// pgbenchResult is what a pgbench run measured.
type pgbenchResult struct {
	tps       float64
	latencies latencies
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)

// runPgbench runs script (pgbench's custom script language) against dbURL
// with clients connections for duration, prepared statements (as pgx uses
// them), and per-transaction logs for the latency quantiles.
func runPgbench(ctx context.Context, pgBin, work, name, dbURL, script string, clients int, duration time.Duration) (pgbenchResult, error) {
	dir := filepath.Join(work, "pgbench-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return pgbenchResult{}, err
	}
	defer os.RemoveAll(dir)
	scriptPath := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(scriptPath, []byte(script), 0o644); err != nil {
		return pgbenchResult{}, err
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return pgbenchResult{}, err
	}
	pw, _ := u.User.Password()
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(duration.Seconds())), "-f", scriptPath,
		"-l", "--log-prefix", filepath.Join(dir, "log"),
		"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username(), strings.TrimPrefix(u.Path, "/")}
	cmd := exec.CommandContext(ctx, filepath.Join(pgBin, "pgbench"), args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw, "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench %s: %w\n%s", name, err, out)
	}
	return parsePgbench(string(out), filepath.Join(dir, "log"))
}

// parsePgbench reads the tps line of pgbench's report and the latencies
// (third column, microseconds) of its per-transaction logs.
func parsePgbench(report, logPrefix string) (pgbenchResult, error) {
	m := tpsLine.FindStringSubmatch(report)
	if m == nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: no tps line in its report:\n%s", report)
	}
	tps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return pgbenchResult{}, err
	}
	files, _ := filepath.Glob(logPrefix + ".*")
	var lat latencies
	for _, f := range files {
		l, err := readPgbenchLog(f)
		if err != nil {
			return pgbenchResult{}, err
		}
		lat = append(lat, l...)
	}
	if len(lat) == 0 {
		return pgbenchResult{}, errors.New("pgbench: no transaction log")
	}
	slices.Sort(lat)
	return pgbenchResult{tps: tps, latencies: lat}, nil
}

func readPgbenchLog(path string) (latencies, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out latencies
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pgbench log %s: %q: %w", path, sc.Text(), err)
		}
		out = append(out, time.Duration(us)*time.Microsecond)
	}
	return out, sc.Err()
}
