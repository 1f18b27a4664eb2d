package apidocs

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from Document()")

// docs/openapi.json is what tools and readers open; it must be what the
// binary serves. Regenerate: go test ./docs -run TestDocumentFileIsCurrent -update
func TestDocumentFileIsCurrent(t *testing.T) {
	want, err := Encode(Document())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/openapi.json is stale: go test ./docs -run TestDocumentFileIsCurrent -update")
	}
}

// Every $ref points at something, every operation has a known tag and a
// unique id, and every path parameter is declared.
func TestDocumentIsConsistent(t *testing.T) {
	doc := Document()
	raw, _ := json.Marshal(doc)
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if generic["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", generic["openapi"])
	}
	for _, m := range regexp.MustCompile(`"\$ref":"#/components/([a-zA-Z]+)/([A-Za-z0-9]+)"`).FindAllStringSubmatch(string(raw), -1) {
		kind, _ := generic["components"].(map[string]any)[m[1]].(map[string]any)
		if _, ok := kind[m[2]]; !ok {
			t.Errorf("dangling $ref %s/%s", m[1], m[2])
		}
	}
	tags := map[string]bool{}
	for _, tg := range generic["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]bool{}
	for p, item := range generic["paths"].(map[string]any) {
		for method, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q empty or repeated", method, p, id)
			}
			ids[id] = true
			for _, tg := range op["tags"].([]any) {
				if !tags[tg.(string)] {
					t.Errorf("%s %s: unknown tag %v", method, p, tg)
				}
			}
			declared := map[string]bool{}
			for _, prm := range asSlice(op["parameters"]) {
				if n, ok := prm.(map[string]any)["name"].(string); ok {
					declared[n] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(p, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s not declared", method, p, m[1])
				}
			}
			if len(asSlice(op["x-codeSamples"])) == 0 {
				t.Errorf("%s %s: no request sample", method, p)
			}
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestReferenceServesPageAssetsAndDocument(t *testing.T) {
	ref, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, ct string
		status         int
		contains       string
	}{
		{"page", "", "text/html; charset=utf-8", 200, "redoc.standalone.js"},
		{"renderer", "redoc.standalone.js", "text/javascript; charset=utf-8", 200, "Redoc"},
		{"licence", "redoc.standalone.js.LICENSE.txt", "text/plain; charset=utf-8", 200, "license"},
		{"unknown", "nope.js", "application/json; charset=utf-8", 404, "Route not found"},
		{"escape", "../apidocs.go", "application/json; charset=utf-8", 404, "Route not found"},
	} {
		rec := httptest.NewRecorder()
		ref.ServePage(rec, httptest.NewRequest("GET", "/docs/"+tc.file, nil), tc.file)
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.ct || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: %d %q, body has %q: %v", tc.name, rec.Code, rec.Header().Get("Content-Type"), tc.contains,
				strings.Contains(rec.Body.String(), tc.contains))
		}
	}
	rec := httptest.NewRecorder()
	ref.ServeDocument(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	var doc map[string]any
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
		json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("document: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), "Sơn Tùng M-TP") {
		t.Fatal("the Vietnamese examples are escaped or missing")
	}
}

// docs/configuration.md lists every variable infra/config reads.
func TestConfigurationGuideListsEveryVariable(t *testing.T) {
	src, err := os.ReadFile("../infra/config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile("configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`get\("([A-Z][A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1)
	if len(vars) < 20 {
		t.Fatalf("found only %d variables in config.go: has its reading changed?", len(vars))
	}
	for _, v := range vars {
		if !strings.Contains(string(guide), "`"+v[1]+"`") {
			t.Errorf("docs/configuration.md does not list `%s`", v[1])
		}
	}
}
