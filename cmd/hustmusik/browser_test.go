//go:build browser

// The browser test needs Chromium, which a fresh CI machine installs in
// minutes: it is behind the build tag `browser` and runs in
// `make test-browser` (scripts/ensure-chromium.sh installs Chromium first).

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumPath is CHROMIUM, or the first Chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: run scripts/ensure-chromium.sh (make test-browser does)")
	return ""
}

// headless runs Chromium on url with extra flags and returns its stdout.
// --virtual-time-budget lets the page's scripts (Redoc fetching and
// rendering the document) run to completion before the DOM is dumped.
func headless(t *testing.T, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=15000", "--window-size=1400,3000"}, extra...)
	cmd := exec.CommandContext(ctx, chromiumPath(t), append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return string(out)
}

// TestBrowserReferencePage opens /docs of a running service in headless
// Chromium: every endpoint group is listed, an operation's Vietnamese
// example and its curl sample render, and nothing came from outside the
// binary. It keeps a screenshot at docs/reference-screenshot.png.
func TestBrowserReferencePage(t *testing.T) {
	api := newTestAPI(t, nil)
	dom := headless(t, api.url+"/docs", "--dump-dom")
	if !strings.Contains(dom, "Hust Musik API") {
		t.Fatalf("the page did not render the document (title missing); DOM:\n%.3000s", dom)
	}
	// Tags become nothing (tokenised samples read whole again) for the
	// examples, a space for the names.
	text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(dom, " ")
	joined := strings.ReplaceAll(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(dom, ""), "&#x27;", "'")
	for _, group := range []string{"Health", "Auth", "User", "Song", "Artist", "Collection", "Search", "Payment", "Admin"} {
		// Redoc lists each tag in the side menu and heads its section.
		if !strings.Contains(dom, `role="menuitem" aria-label="`+group+`"`) {
			t.Errorf("endpoint group %q is not in the menu", group)
		}
		if !regexp.MustCompile(`<h2[^>]*>(<a[^>]*></a>)?` + group + `</h2>`).MatchString(dom) {
			t.Errorf("endpoint group %q has no section heading", group)
		}
	}
	for _, summary := range []string{"Register User", "Get Song By ID", "Add Collection", "Create Zalo Order",
		"Default Search", "Export the event log"} {
		if !strings.Contains(text, summary) {
			t.Errorf("operation %q is not listed", summary)
		}
	}
	// Examples: the response samples carry the Vietnamese data, the request
	// samples a curl command a reader can copy.
	for _, example := range []string{`"name": "Sơn Tùng M-TP"`, `"title": "Chúng Ta Của Hiện Tại"`,
		"curl -s 'http://localhost:7554/v1/song/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a'", ">curl (JSON)<", ">curl (multipart)<"} {
		if !strings.Contains(joined, example) && !strings.Contains(dom, example) {
			t.Errorf("example %q does not render", example)
		}
	}
	// Everything the page loads comes from the service itself.
	for _, m := range regexp.MustCompile(`<(?:script|link|img)[^>]+(?:src|href)="(https?:[^"]+)"`).FindAllStringSubmatch(dom, -1) {
		if !strings.HasPrefix(m[1], api.url) {
			t.Errorf("the page loads %s from elsewhere", m[1])
		}
	}

	shot, err := filepath.Abs("../../docs/reference-screenshot.png")
	if err != nil {
		t.Fatal(err)
	}
	headless(t, api.url+"/docs", "--screenshot="+shot, "--hide-scrollbars")
	info, err := os.Stat(shot)
	if err != nil || info.Size() < 20_000 || time.Since(info.ModTime()) > time.Minute {
		t.Fatalf("screenshot %s not written or empty: %v", shot, err)
	}
}
