// Package apidocs is the API's OpenAPI 3.1 document and the reference page
// that renders it (Redoc, embedded: no CDN), served by the binary at
// /v1/openapi.json and /docs. The document is built from operations() in
// spec.go; docs/openapi.json is a copy of it for readers and tools, kept
// equal by TestDocumentFileIsCurrent. The drift test in cmd/hustmusik holds
// the document to the real routes and answers.
package apidocs

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed reference
var assets embed.FS

// Reference serves the document and the page.
type Reference struct {
	document []byte
	files    fs.FS
	// built is the Last-Modified of every answer: the process's start.
	built time.Time
}

// New builds the document once; it fails only if the document does not
// encode, which a test catches first.
func New() (*Reference, error) {
	doc, err := Encode(Document())
	if err != nil {
		return nil, err
	}
	files, err := fs.Sub(assets, "reference")
	if err != nil {
		return nil, fmt.Errorf("apidocs: reference assets: %w", err)
	}
	return &Reference{document: doc, files: files, built: time.Now()}, nil
}

// Encode is the document as served and as kept in docs/openapi.json:
// indented, non-ASCII kept as is (the Vietnamese examples stay readable).
func Encode(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("apidocs: encode the OpenAPI document: %w", err)
	}
	return buf.Bytes(), nil
}

// ServeDocument answers GET /v1/openapi.json.
func (r *Reference) ServeDocument(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	http.ServeContent(w, req, "openapi.json", r.built, bytes.NewReader(r.document))
}

// contentTypes of the page's files; anything else is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
}

// ServePage answers GET /docs (the page) and GET /docs/<file> (its
// assets); name is the file ("" for the page).
func (r *Reference) ServePage(w http.ResponseWriter, req *http.Request, name string) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		name = "index.html"
	}
	ct, ok := contentTypes[path.Ext(name)]
	raw, err := fs.ReadFile(r.files, name)
	if !ok || err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Route not found"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, req, name, r.built, bytes.NewReader(raw))
}
