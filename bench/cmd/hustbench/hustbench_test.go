package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQuantileIsNearestRank(t *testing.T) {
	ms := func(v ...int) latencies {
		out := make(latencies, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		l    latencies
		q    float64
		want float64
	}{
		{"empty", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2},
		{"p99 of 100 is the 99th", ms(func() []int {
			v := make([]int, 100)
			for i := range v {
				v[i] = i + 1
			}
			return v
		}()...), 0.99, 99},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10},
		{"p100", ms(1, 5, 9), 1, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.quantile(tt.q); got != tt.want {
				t.Fatalf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestNewResultJudgesByDirection(t *testing.T) {
	tests := []struct {
		name      string
		value     float64
		better    string
		target    *float64
		baseline  *float64
		pass      *bool
		wantRatio *float64
	}{
		{"throughput above target", 3500, "higher", num(3000), num(7000), ptr(true), num(0.5)},
		{"throughput below target", 2900, "higher", num(3000), nil, ptr(false), nil},
		{"latency under target", 49.9, "lower", num(50), num(10), ptr(true), num(4.99)},
		{"latency at target fails", 50, "lower", num(50), nil, ptr(false), nil},
		{"no target: information only", 12, "lower", nil, num(6), nil, num(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResult("x", tt.value, "u", tt.better, tt.target, tt.baseline, "")
			if (r.Pass == nil) != (tt.pass == nil) || r.Pass != nil && *r.Pass != *tt.pass {
				t.Fatalf("pass %v, want %v", deref(r.Ratio), tt.pass)
			}
			if (r.Ratio == nil) != (tt.wantRatio == nil) || r.Ratio != nil && *r.Ratio != *tt.wantRatio {
				t.Fatalf("ratio %v, want %v", deref(r.Ratio), deref(tt.wantRatio))
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

func TestScoreIsTimesBetter(t *testing.T) {
	tests := []struct {
		value, ref float64
		better     string
		want       float64
	}{
		{6000, 3000, "higher", 2},
		{25, 50, "lower", 2},
		{100, 50, "lower", 0.5},
		{0, 50, "lower", 0},
	}
	for _, tt := range tests {
		if got := score(tt.value, tt.ref, tt.better); got != tt.want {
			t.Errorf("score(%v, %v, %s) = %v, want %v", tt.value, tt.ref, tt.better, got, tt.want)
		}
	}
}

func TestParsePgbenchReadsTpsAndTransactionLogs(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "log")
	// client_id transaction_no time(us) script_no time_epoch time_us
	os.WriteFile(prefix+".123", []byte("0 0 1500 0 1764374400 1000\n1 0 900 0 1764374400 2000\n"), 0o644)
	os.WriteFile(prefix+".123.1", []byte("2 0 30000 0 1764374400 3000\n"), 0o644)
	report := "transaction type: script.sql\nnumber of clients: 3\nlatency average = 1.2 ms\n" +
		"initial connection time = 3.1 ms\ntps = 2450.123456 (without initial connection time)\n"
	r, err := parsePgbench(report, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if r.tps != 2450.123456 || len(r.latencies) != 3 || r.latencies.quantile(1) != 30 || r.latencies.quantile(0.01) != 0.9 {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := parsePgbench("no report", prefix); err == nil {
		t.Fatal("a report without tps must fail")
	}
}

func TestOneLineMakesOnePgbenchCommandPerStatement(t *testing.T) {
	got := oneLine("SELECT a,\n  b FROM t\n WHERE x = :n;\nSELECT 1;\n")
	want := "SELECT a, b FROM t WHERE x = :n;\nSELECT 1;\n"
	if got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

func TestChartDrawsEveryFigure(t *testing.T) {
	results := []Result{
		newResult("listen_rps", 1500, "req/s", "higher", num(3000), num(3000), ""),
		newResult("search_p99_ms", 12, "ms", "lower", num(30), num(8), ""),
		newResult("startup_ms", 700, "ms", "lower", nil, num(200), ""),
	}
	img := drawChart(results)
	if img.Bounds().Dy() < chartTop+rowH*len(results) {
		t.Fatalf("chart %v too small for %d rows", img.Bounds(), len(results))
	}
	// The first row's target bar is red (1500 < 3000), the second's green.
	at := func(row, dy int) [3]uint8 {
		c := img.RGBAAt(barLeft+1, chartTop+row*rowH+dy)
		return [3]uint8{c.R, c.G, c.B}
	}
	if at(0, 5) != [3]uint8{chartFail.R, chartFail.G, chartFail.B} || at(1, 5) != [3]uint8{chartPass.R, chartPass.G, chartPass.B} {
		t.Fatalf("bar colours %v %v", at(0, 5), at(1, 5))
	}
	if strings.Count(renderTable(results, machine{}), "\n") < len(results)+3 {
		t.Fatal("table misses rows")
	}
}
