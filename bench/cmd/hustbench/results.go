package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Result is one figure of results.json. Target and Baseline are nil when the
// figure has none; Ratio is Value/Baseline. Better says which way is good
// ("higher" or "lower"), so Pass can be judged from the file alone.
type Result struct {
	Name     string   `json:"name"`
	Value    float64  `json:"value"`
	Unit     string   `json:"unit"`
	Target   *float64 `json:"target"`
	Baseline *float64 `json:"baseline"`
	Ratio    *float64 `json:"ratio"`
	Better   string   `json:"better"`
	Pass     *bool    `json:"pass"`
	// BaselineIs says what the baseline measured.
	BaselineIs string `json:"baseline_is,omitempty"`
}

func num(v float64) *float64 { return &v }

// newResult fills Ratio and Pass from the rest.
func newResult(name string, value float64, unit, better string, target, baseline *float64, baselineIs string) Result {
	r := Result{Name: name, Value: round(value), Unit: unit, Better: better, Target: target, Baseline: baseline, BaselineIs: baselineIs}
	if baseline != nil {
		b := round(*baseline)
		r.Baseline = &b
		if *baseline != 0 {
			r.Ratio = num(round(value / *baseline))
		}
	}
	if target != nil {
		ok := value >= *target
		if better == "lower" {
			ok = value < *target
		}
		r.Pass = &ok
	}
	return r
}

func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	// Three significant decimals are plenty for noisy measurements.
	scale := math.Pow(10, 3-math.Ceil(math.Log10(math.Abs(v))))
	if scale < 1 {
		return math.Round(v)
	}
	return math.Round(v*scale) / scale
}

// machine describes the run: the numbers are noisy on a shared 2-core box,
// so the load average is part of every result.
type machine struct {
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go_version"`
	Kernel     string `json:"kernel"`
	Started    string `json:"started"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Took       string `json:"took"`
}

func machineFacts() machine {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return machine{
		CPUs:       runtime.NumCPU(),
		GoVersion:  runtime.Version(),
		Kernel:     strings.TrimSpace(string(kernel)),
		Started:    time.Now().UTC().Format(time.RFC3339),
		LoadBefore: loadAverage(),
	}
}

// loadAverage is /proc/loadavg's three averages.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func fmtNum(v *float64) string {
	if v == nil {
		return "-"
	}
	x := *v
	switch {
	case math.Abs(x) >= 1000:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}

// renderTable is the table `make bench` prints and docs/performance.md quotes.
func renderTable(results []Result, m machine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nHust Musik benchmark, %s, %d CPUs, %s, load average before %s, after %s, took %s\n\n",
		m.Started, m.CPUs, m.GoVersion, m.LoadBefore, m.LoadAfter, m.Took)
	fmt.Fprintf(&b, "| %-26s | %10s | %-6s | %-9s | %10s | %7s | %-4s | %s\n", "figure", "value", "unit", "target", "baseline", "ratio", "pass", "baseline is")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|%s\n", strings.Repeat("-", 28), strings.Repeat("-", 12), strings.Repeat("-", 8),
		strings.Repeat("-", 11), strings.Repeat("-", 12), strings.Repeat("-", 9), strings.Repeat("-", 6), strings.Repeat("-", 12))
	for _, r := range results {
		target := "-"
		if r.Target != nil {
			op := ">="
			if r.Better == "lower" {
				op = "<"
			}
			target = op + " " + fmtNum(r.Target)
		}
		pass := "info"
		if r.Pass != nil {
			pass = "FAIL"
			if *r.Pass {
				pass = "ok"
			}
		}
		v := r.Value
		fmt.Fprintf(&b, "| %-26s | %10s | %-6s | %-9s | %10s | %7s | %-4s | %s\n",
			r.Name, fmtNum(&v), r.Unit, target, fmtNum(r.Baseline), fmtNum(r.Ratio), pass, r.BaselineIs)
	}
	return b.String()
}

func writeResults(dir string, results []Result, m machine, table string) error {
	raw, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	rawM, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "machine.json"), append(rawM, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.txt"), []byte(table), 0o644)
}
