package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	apidocs "github.com/hustmusik/backend/docs"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/zalopay/zalopaytest"
)

// undocumented are the routes outside /v1 that the OpenAPI document leaves
// out on purpose, with the reason. Everything else the router serves must
// be documented (GET /, /readyz and /metrics are).
var undocumented = map[string]string{
	"GET /blob/*key":  "signed URLs of the local blob store, handed out by the presigned endpoints; not an API to call",
	"HEAD /blob/*key": "same as GET /blob/*key",
	"PUT /blob/*key":  "the upload half of a presigned URL (GET /v1/song/{id}/presigned/upload documents it)",
	"GET /docs":       "the reference page itself",
	"GET /docs/*file": "the reference page's assets (Redoc)",
}

// openAPIDoc is the document as the server serves it, decoded generically.
type openAPIDoc map[string]any

func loadOpenAPI(t *testing.T, api *testAPI) openAPIDoc {
	t.Helper()
	r := api.expect(api.do("GET", "/v1/openapi.json", "", nil), 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("/v1/openapi.json Content-Type %q", ct)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func (d openAPIDoc) operation(method, path string) map[string]any {
	paths, _ := d["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// routeProblems compares the router's routes with the document: every route
// must be documented (or listed in undocumented), and every documented
// operation must be a route.
func routeProblems(doc openAPIDoc, routes gin.RoutesInfo) []string {
	var problems []string
	served := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if _, skip := undocumented[key]; skip {
			continue
		}
		p := apidocs.GinPathToOpenAPI(r.Path)
		served[r.Method+" "+p] = true
		if doc.operation(r.Method, p) == nil {
			problems = append(problems, fmt.Sprintf("route %s %s is not in the OpenAPI document", r.Method, r.Path))
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for method := range item.(map[string]any) {
			if !served[strings.ToUpper(method)+" "+p] {
				problems = append(problems, fmt.Sprintf("documented %s %s is not a route", strings.ToUpper(method), p))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func TestOpenAPIRoutesMatchTheRouter(t *testing.T) {
	api := newTestAPI(t, nil)
	doc := loadOpenAPI(t, api)
	routes := api.app.server.Engine().Routes()
	if len(routes) < 50 {
		t.Fatalf("only %d routes: is this the whole router?", len(routes))
	}
	if problems := routeProblems(doc, routes); len(problems) > 0 {
		t.Fatalf("the OpenAPI document drifted from the router:\n%s", strings.Join(problems, "\n"))
	}
}

// The drift check fails when someone adds a route without documenting it,
// and when a documented route disappears.
func TestOpenAPIDriftCheckCatchesUndocumentedAndMissingRoutes(t *testing.T) {
	api := newTestAPI(t, nil) // a fresh engine, built as serve builds it
	doc := loadOpenAPI(t, api)
	e := api.app.server.Engine()
	e.GET("/v1/song/:id/lyrics", func(c *gin.Context) { c.JSON(200, gin.H{"data": "Em của ngày hôm qua"}) })
	e.DELETE("/v1/admin/events", func(c *gin.Context) { c.Status(204) })
	got := routeProblems(doc, e.Routes())
	want := []string{
		"route DELETE /v1/admin/events is not in the OpenAPI document",
		"route GET /v1/song/:id/lyrics is not in the OpenAPI document",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var fewer gin.RoutesInfo
	for _, r := range api.app.server.Engine().Routes() {
		if !(r.Method == "GET" && r.Path == "/v1/song/:id/stats") && !strings.HasSuffix(r.Path, "/lyrics") &&
			!(r.Method == "DELETE" && r.Path == "/v1/admin/events") {
			fewer = append(fewer, r)
		}
	}
	if got := routeProblems(doc, fewer); !slices.Equal(got, []string{"documented GET /v1/song/{id}/stats is not a route"}) {
		t.Fatalf("problems with a route removed: %v", got)
	}
}

// schemaChecker validates JSON values against the subset of JSON Schema the
// document uses: $ref, type (a name or an array of names), properties,
// required, additionalProperties, items, enum.
type schemaChecker struct{ doc openAPIDoc }

func (c schemaChecker) resolve(s map[string]any) map[string]any {
	for {
		r, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = map[string]any(c.doc)
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			return map[string]any{"not": "resolvable " + r}
		}
		s = next
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (c schemaChecker) check(schema map[string]any, v any, at string) []string {
	s := c.resolve(schema)
	if bad, ok := s["not"].(string); ok {
		return []string{at + ": schema " + bad}
	}
	var problems []string
	if t, ok := s["type"]; ok {
		var allowed []string
		switch x := t.(type) {
		case string:
			allowed = []string{x}
		case []any:
			for _, a := range x {
				allowed = append(allowed, a.(string))
			}
		}
		got := jsonType(v)
		if !slices.Contains(allowed, got) && !(got == "integer" && slices.Contains(allowed, "number")) {
			return []string{fmt.Sprintf("%s: %s, want %v", at, got, allowed)}
		}
	}
	if en, ok := s["enum"].([]any); ok && !slices.ContainsFunc(en, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", at, v, en))
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asAnySlice(s["required"]) {
			if _, ok := x[r.(string)]; !ok {
				problems = append(problems, fmt.Sprintf("%s: required %q missing", at, r))
			}
		}
		for _, k := range sortedMapKeys(x) {
			if ps, ok := props[k].(map[string]any); ok {
				problems = append(problems, c.check(ps, x[k], at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					problems = append(problems, fmt.Sprintf("%s: field %q is not documented", at, k))
				}
			case map[string]any:
				problems = append(problems, c.check(ap, x[k], at+"."+k)...)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				problems = append(problems, c.check(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return problems
}

func asAnySlice(v any) []any { s, _ := v.([]any); return s }

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// contract sends requests to the running service and holds every answer to
// the document: its status must be documented for that operation, its
// content type listed, its body valid against the schema. It records which
// operations were exercised.
type contract struct {
	t       *testing.T
	api     *testAPI
	doc     openAPIDoc
	checker schemaChecker
	covered map[string]map[int]bool
}

func newContract(t *testing.T, api *testAPI) *contract {
	doc := loadOpenAPI(t, api)
	return &contract{t: t, api: api, doc: doc, checker: schemaChecker{doc}, covered: map[string]map[int]bool{}}
}

// call sends method to concrete (which must fit the gin route pattern) and
// expects status.
func (c *contract) call(method, pattern, concrete, token string, body any, status int, headers ...string) answer {
	c.t.Helper()
	pathOnly, _, _ := strings.Cut(concrete, "?")
	if !fitsPattern(pattern, pathOnly) {
		c.t.Fatalf("%s does not fit the route %s", concrete, pattern)
	}
	r := c.api.do(method, concrete, token, body, headers...)
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, concrete, r.status, status, r.body)
	}
	c.validate(method, pattern, concrete, r)
	return r
}

func fitsPattern(pattern, path string) bool {
	ps, cs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(cs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], ":") && ps[i] != cs[i] {
			return false
		}
	}
	return true
}

func (c *contract) validate(method, pattern, concrete string, r answer) {
	c.t.Helper()
	p := apidocs.GinPathToOpenAPI(pattern)
	op := c.doc.operation(method, p)
	if op == nil {
		c.t.Fatalf("%s %s is not documented", method, p)
	}
	key := method + " " + p
	if c.covered[key] == nil {
		c.covered[key] = map[int]bool{}
	}
	c.covered[key][r.status] = true
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(r.status)].(map[string]any)
	if !ok {
		c.t.Fatalf("%s %s answered %d, which the document does not describe: %s", method, concrete, r.status, r.body)
	}
	resp = c.checker.resolve(resp)
	if hdrs, _ := resp["headers"].(map[string]any); hdrs["Location"] != nil && r.header.Get("Location") == "" {
		c.t.Fatalf("%s %s: no Location header", method, concrete)
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(r.body) > 0 {
			c.t.Fatalf("%s %s: %d documented without a body, answered %q", method, concrete, r.status, r.body)
		}
		return
	}
	mediaType, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	media, ok := content[strings.TrimSpace(mediaType)].(map[string]any)
	if !ok {
		c.t.Fatalf("%s %s: Content-Type %q not documented for %d (documented: %v)", method, concrete, mediaType, r.status, sortedMapKeys(content))
	}
	schema, _ := media["schema"].(map[string]any)
	var values []any
	switch mediaType {
	case "application/json":
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			c.t.Fatalf("%s %s: not JSON: %v", method, concrete, err)
		}
		values = append(values, v)
	case "application/x-ndjson": // the schema is one line's
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var v any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				c.t.Fatalf("%s %s: line not JSON: %v", method, concrete, err)
			}
			values = append(values, v)
		}
		if len(values) == 0 {
			c.t.Fatalf("%s %s: no lines to check", method, concrete)
		}
	default:
		values = append(values, string(r.body))
	}
	for _, v := range values {
		if problems := c.checker.check(schema, v, "body"); len(problems) > 0 {
			c.t.Fatalf("%s %s (%d) does not match the document:\n%s\nbody: %.2000s", method, concrete, r.status,
				strings.Join(problems, "\n"), r.body)
		}
	}
}

// multipart sends a multipart/form-data write with an image.
func (c *contract) multipart(method, pattern, concrete, token string, vals map[string]string, status int) answer {
	c.t.Helper()
	body, ct := multipartBody(c.t, vals, pngBytes(c.t, color.RGBA{R: 200, G: 30, B: 60, A: 255}))
	r := c.api.do(method, concrete, token, body, "Content-Type", ct)
	if r.status != status {
		c.t.Fatalf("%s %s (multipart): status %d, want %d: %s", method, concrete, r.status, status, r.body)
	}
	c.validate(method, pattern, concrete, r)
	return r
}

func idOf(t *testing.T, r answer) string {
	t.Helper()
	var body struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Data.ID == "" {
		t.Fatalf("no data.id in %s", r.body)
	}
	return body.Data.ID
}

// TestOpenAPIAnswersMatchTheDocument builds a small world through the API
// (an Admin, an Artist Manager, a listener, an artist, songs, an album, a
// playlist, listens, follows, a paid order) and holds every answer, success
// or failure, to the document; then it checks that every documented
// operation was exercised.
func TestOpenAPIAnswersMatchTheDocument(t *testing.T) {
	zalo := zalopaytest.New(zaloAppID, zaloKey1, zaloKey2)
	t.Cleanup(zalo.Close)
	google := startGoogleProvider(t, false)
	api := newTestAPI(t, google.env(map[string]string{"ADMIN_EMAILS": "quantri@hust.vn",
		"ZALO_APP_ID": zaloAppID, "ZALO_KEY1": zaloKey1, "ZALO_KEY2": zaloKey2, "ZALO_ENDPOINT": zalo.URL()}))
	c := newContract(t, api)

	// Health and operations.
	c.call("GET", "/", "/", "", nil, 200)
	c.call("GET", "/readyz", "/readyz", "", nil, 200)
	c.call("GET", "/metrics", "/metrics", "", nil, 200)
	c.call("GET", "/v1/openapi.json", "/v1/openapi.json", "", nil, 200)

	// Auth: an Admin (ADMIN_EMAILS), a manager-to-be, a listener.
	signup := func(email, name string) account {
		return accountOf(t, c.call("POST", "/v1/auth/signup", "/v1/auth/signup", "", map[string]string{
			"email": email, "password": "mat-khau-1", "username": name, "country": "Việt Nam"}, 200))
	}
	admin := signup("quantri@hust.vn", "Quản Trị")
	mgr := signup("mtp@hust.vn", "M-TP Entertainment")
	lan := accountOf(t, c.multipart("POST", "/v1/auth/signup", "/v1/auth/signup", "",
		map[string]string{"email": "lan@hust.vn", "password": "mat-khau-1", "username": "Lan Nguyễn"}, 200))
	c.call("POST", "/v1/auth/signup", "/v1/auth/signup", "", map[string]string{"email": "lan@hust.vn", "password": "x-123456"}, 409)
	c.call("POST", "/v1/auth/signup", "/v1/auth/signup", "", map[string]string{"username": "Không Email"}, 400)
	c.call("POST", "/v1/auth/signin", "/v1/auth/signin", "", map[string]string{"email": "lan@hust.vn", "password": "sai-mat-khau"}, 400)
	c.call("POST", "/v1/user/:id/role", "/v1/user/"+mgr.id+"/role", admin.access, map[string]string{"role": "Artist Manager"}, 200)
	c.call("POST", "/v1/user/:id/role", "/v1/user/"+mgr.id+"/role", lan.access, map[string]string{"role": "Admin"}, 403)
	mgr = accountOf(t, c.call("POST", "/v1/auth/signin", "/v1/auth/signin", "",
		map[string]string{"email": "mtp@hust.vn", "password": "mat-khau-1"}, 200))
	renewed := accountOf(t, c.call("POST", "/v1/auth/session/renew", "/v1/auth/session/renew", "",
		map[string]string{"refresh_token": lan.refresh}, 200))
	lan.refresh = renewed.refresh
	c.call("POST", "/v1/auth/session/renew", "/v1/auth/session/renew", "", map[string]string{}, 401)
	c.call("POST", "/v1/auth/credentials", "/v1/auth/credentials", renewed.access,
		map[string]string{"password": "mat-khau-2", "current_password": "mat-khau-1"}, 204)
	lan = accountOf(t, c.call("POST", "/v1/auth/signin", "/v1/auth/signin", "",
		map[string]string{"email": "lan@hust.vn", "password": "mat-khau-2"}, 200))
	c.call("GET", "/v1/auth/oauth", "/v1/auth/oauth?returnUrl=/library", "", nil, 200)
	c.call("GET", "/v1/auth/oauth/callback", "/v1/auth/oauth/callback?code=x&state=y", "", nil, 302)

	// Artists and songs.
	artist := idOf(t, c.call("POST", "/v1/artist", "/v1/artist", mgr.access, map[string]string{
		"name": "Sơn Tùng M-TP", "country": "Việt Nam", "description": "Ca sĩ, nhạc sĩ người Thái Bình"}, 200))
	feat := idOf(t, c.multipart("POST", "/v1/artist", "/v1/artist", mgr.access, map[string]string{"name": "Đen Vâu"}, 200))
	c.call("POST", "/v1/artist", "/v1/artist", lan.access, map[string]string{"name": "Hòa Minzy"}, 403)
	c.call("POST", "/v1/artist", "/v1/artist", mgr.access, map[string]string{"country": "VN"}, 400)
	c.call("POST", "/v1/artist/:id", "/v1/artist/"+artist, mgr.access, map[string]string{"description": "Chủ nhân của Chúng Ta Của Hiện Tại"}, 200)
	c.multipart("POST", "/v1/artist/:id", "/v1/artist/"+feat, mgr.access, map[string]string{"country": "Việt Nam"}, 200)
	song := idOf(t, c.call("POST", "/v1/song", "/v1/song", mgr.access, map[string]string{"title": "Chúng Ta Của Hiện Tại",
		"artists": artist + "," + feat, "duration": "301", "releasedate": "2020-12-20", "genre": "V-Pop"}, 200))
	song2 := idOf(t, c.multipart("POST", "/v1/song", "/v1/song", mgr.access, map[string]string{"title": "Hãy Trao Cho Anh",
		"artists": artist, "duration": "245"}, 200))
	c.call("POST", "/v1/song", "/v1/song", mgr.access, map[string]string{"artists": artist}, 400)
	c.call("POST", "/v1/song", "/v1/song", mgr.access, map[string]string{"title": "Lạc Trôi", "artists": "6f1c0d7e-88a1-4b2c-9d3e-4f5a6b7c8d9e"}, 404)
	c.call("POST", "/v1/song/:id", "/v1/song/"+song, mgr.access, map[string]string{"description": "Ca khúc cuối năm 2020"}, 200)
	c.multipart("POST", "/v1/song/:id", "/v1/song/"+song2, mgr.access, map[string]string{"genre": "V-Pop"}, 200)
	c.call("GET", "/v1/song", "/v1/song?page=1&limit=10", "", nil, 200)
	c.call("GET", "/v1/song", "/v1/song?page=abc", "", nil, 400)
	c.call("GET", "/v1/song/:id", "/v1/song/"+song, "", nil, 200)
	c.call("GET", "/v1/song/:id", "/v1/song/not-a-uuid", "", nil, 400)
	c.call("GET", "/v1/song/:id", "/v1/song/6f1c0d7e-88a1-4b2c-9d3e-4f5a6b7c8d9e", "", nil, 404)
	c.call("GET", "/v1/song/:id/presigned/upload", "/v1/song/"+song+"/presigned/upload", mgr.access, nil, 200)
	c.call("GET", "/v1/song/:id/presigned/upload", "/v1/song/"+song+"/presigned/upload", lan.access, nil, 403)
	c.call("GET", "/v1/song/:id/presigned/upload", "/v1/song/"+song+"/presigned/upload", "", nil, 401)
	c.call("GET", "/v1/song/:id/presigned/stream", "/v1/song/"+song+"/presigned/stream", "", nil, 200)
	c.call("GET", "/v1/artist", "/v1/artist", "", nil, 200)
	c.call("GET", "/v1/artist", "/v1/artist?managed=true", mgr.access, nil, 200)
	c.call("GET", "/v1/artist/:id", "/v1/artist/"+artist, "", nil, 200)
	c.call("GET", "/v1/artist/:id", "/v1/artist/6f1c0d7e-88a1-4b2c-9d3e-4f5a6b7c8d9e", "", nil, 404)
	c.call("GET", "/v1/artist/:id/songs", "/v1/artist/"+artist+"/songs", "", nil, 200)

	// Collections: an album of the manager, playlists of the listener.
	album := idOf(t, c.call("POST", "/v1/collection", "/v1/collection", mgr.access, map[string]string{
		"title": "Sky Tour", "description": "Album đầu tay", "type": "album", "visibility": "Public"}, 200))
	playlist := idOf(t, c.multipart("POST", "/v1/collection", "/v1/collection", lan.access, map[string]string{
		"title": "Nhạc chill cuối tuần", "description": "Những bài hát nhẹ nhàng", "type": "Playlist"}, 200))
	private := idOf(t, c.call("POST", "/v1/collection", "/v1/collection", lan.access, map[string]string{
		"title": "Riêng tư", "type": "Playlist", "visibility": "Private"}, 200))
	c.call("POST", "/v1/collection", "/v1/collection", lan.access, map[string]string{"title": "Album giả", "type": "Album"}, 403)
	c.call("POST", "/v1/collection/:id/songs/:songid", "/v1/collection/"+album+"/songs/"+song, mgr.access, nil, 204)
	c.call("POST", "/v1/collection/:id/songs/:songid", "/v1/collection/"+playlist+"/songs/"+song, lan.access, nil, 204)
	c.call("POST", "/v1/collection/:id/songs/:songid", "/v1/collection/"+playlist+"/songs/"+song2, lan.access, nil, 204)
	c.call("POST", "/v1/collection/:id/songs/:songid", "/v1/collection/"+album+"/songs/"+song2, lan.access, nil, 403)
	c.call("POST", "/v1/collection/:id", "/v1/collection/"+playlist, lan.access, map[string]string{"description": "Cho những ngày mưa"}, 200)
	c.multipart("POST", "/v1/collection/:id", "/v1/collection/"+private, lan.access, map[string]string{"title": "Riêng tư 2"}, 200)
	c.call("POST", "/v1/collection/:id", "/v1/collection/"+album, lan.access, map[string]string{"title": "Của tôi"}, 403)
	c.call("GET", "/v1/collection", "/v1/collection", lan.access, nil, 200)
	c.call("GET", "/v1/collection/playlists", "/v1/collection/playlists", "", nil, 200)
	c.call("GET", "/v1/collection/albums", "/v1/collection/albums", "", nil, 200)
	c.call("GET", "/v1/collection/:id", "/v1/collection/"+playlist, "", nil, 200)
	c.call("GET", "/v1/collection/:id", "/v1/collection/"+private, mgr.access, nil, 404)
	c.call("GET", "/v1/artist/:id/albums", "/v1/artist/"+artist+"/albums", "", nil, 200)
	c.call("GET", "/v1/song/:id", "/v1/song/"+song, "", nil, 200) // now with its album

	// The listener's library.
	c.call("POST", "/v1/user/me/history/:songid", "/v1/user/me/history/"+song, lan.access, nil, 204)
	c.call("POST", "/v1/user/me/history/:songid", "/v1/user/me/history/"+song2, lan.access, nil, 204)
	c.call("POST", "/v1/user/me/history/:songid", "/v1/user/me/history/6f1c0d7e-88a1-4b2c-9d3e-4f5a6b7c8d9e", lan.access, nil, 404)
	c.call("GET", "/v1/user/me/history", "/v1/user/me/history?limit=5", lan.access, nil, 200)
	c.call("GET", "/v1/song/:id/stats", "/v1/song/"+song+"/stats", "", nil, 200)
	c.call("POST", "/v1/user/me/following/:artistid", "/v1/user/me/following/"+artist, lan.access, nil, 204)
	c.call("POST", "/v1/user/me/following/:artistid", "/v1/user/me/following/"+feat, lan.access, nil, 204)
	c.call("DELETE", "/v1/user/me/following/:artistid", "/v1/user/me/following/"+feat, lan.access, nil, 204)
	c.call("GET", "/v1/user/me/following", "/v1/user/me/following", lan.access, nil, 200)
	c.call("GET", "/v1/user/me/playlists", "/v1/user/me/playlists", lan.access, nil, 200)
	c.call("GET", "/v1/user/me", "/v1/user/me", lan.access, nil, 200)
	c.call("GET", "/v1/user/me", "/v1/user/me", "", nil, 401)
	c.call("GET", "/v1/user/me", "/v1/user/me", "not-a-token", nil, 401)
	c.call("POST", "/v1/user/me", "/v1/user/me", lan.access, map[string]string{"country": "Việt Nam"}, 200)
	c.multipart("POST", "/v1/user/me", "/v1/user/me", lan.access, map[string]string{"username": "Lan Nguyễn Thị"}, 200)
	c.call("POST", "/v1/user/me", "/v1/user/me", lan.access, map[string]string{}, 400)
	c.call("GET", "/v1/user", "/v1/user?limit=50", "", nil, 200)
	c.call("GET", "/v1/user/:id", "/v1/user/"+lan.id, "", nil, 200)
	c.call("GET", "/v1/user/:id", "/v1/user/6f1c0d7e-88a1-4b2c-9d3e-4f5a6b7c8d9e", "", nil, 404)

	// Search: the search projector follows the log on its own; wait until
	// it found the song so that the shapes are checked with hits in them.
	c.call("GET", "/v1/search", "/v1/search", "", nil, 400)
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := c.call("GET", "/v1/search/:term", "/v1/search/"+url.PathEscape("chung ta"), lan.access, nil, 200)
		if bytes.Contains(r.body, []byte(song)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search never found the song and the playlist: %s", r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.call("GET", "/v1/search/:term", "/v1/search/son+tung", "", nil, 200)
	for _, kind := range []string{"songs", "artists", "albums", "playlists", "users"} {
		term := map[string]string{"songs": "chung ta", "artists": "son+tung", "albums": "sky", "playlists": "nhac chill", "users": "lan"}[kind]
		r := c.call("GET", "/v1/search/:term/"+kind, "/v1/search/"+url.PathEscape(term)+"/"+kind+"?limit=5", lan.access, nil, 200)
		if bytes.Contains(r.body, []byte("[]")) {
			t.Fatalf("search %s for %q found nothing to check: %s", kind, term, r.body)
		}
	}

	// Payment: checkout, status both ways, trail, callbacks.
	chk := c.call("POST", "/v1/order/checkout", "/v1/order/checkout", lan.access, map[string]any{"items": []map[string]any{
		{"itemname": "Hust Musik Premium", "itemprice": 59000, "itemquantity": 1}}}, 200).json(t)
	order, _ := chk["app_trans_id"].(string)
	c.call("POST", "/v1/order/checkout", "/v1/order/checkout", lan.access, map[string]any{"items": []any{}}, 400)
	c.call("POST", "/v1/order/checkout", "/v1/order/checkout", lan.access, map[string]any{"items": []map[string]any{
		{"itemname": "Hust Musik Premium", "itemprice": 59000, "itemquantity": 1}}, "userid": mgr.id}, 403)
	c.call("GET", "/v1/order/:app_trans_id", "/v1/order/"+order, lan.access, nil, 200)
	cb, err := zalo.PaidCallback(order)
	if err != nil {
		t.Fatal(err)
	}
	c.call("POST", "/v1/order/checkout/callback", "/v1/order/checkout/callback", "", cb, 200)
	cb.MAC = strings.Repeat("0", 64)
	c.call("POST", "/v1/order/checkout/callback", "/v1/order/checkout/callback", "", cb, 200)
	c.call("POST", "/v1/order/:app_trans_id", "/v1/order/"+order, admin.access, nil, 200)
	c.call("GET", "/v1/order/:app_trans_id", "/v1/order/261129_unknown", lan.access, nil, 404)
	c.call("GET", "/v1/order/:app_trans_id/events", "/v1/order/"+order+"/events", lan.access, nil, 200)
	c.call("GET", "/v1/order/:app_trans_id/events", "/v1/order/"+order+"/events", mgr.access, nil, 404)
	c.call("GET", "/v1/user/me", "/v1/user/me", lan.access, nil, 200) // premium_until is now a time

	// The event log.
	c.call("GET", "/v1/admin/events", "/v1/admin/events?limit=10000", admin.access, nil, 200)
	c.call("GET", "/v1/admin/events", "/v1/admin/events?type=ListenRecorded", admin.access, nil, 200)
	c.call("GET", "/v1/admin/events", "/v1/admin/events", lan.access, nil, 403)
	c.call("GET", "/v1/admin/events", "/v1/admin/events?after=-1", admin.access, nil, 400)

	// Deletions and signing out.
	c.call("DELETE", "/v1/collection/:id/songs/:songid", "/v1/collection/"+playlist+"/songs/"+song2, lan.access, nil, 204)
	c.call("DELETE", "/v1/collection/:id", "/v1/collection/"+private, lan.access, nil, 200)
	c.call("DELETE", "/v1/collection/:id", "/v1/collection/"+album, lan.access, nil, 403)
	c.call("DELETE", "/v1/song/:id", "/v1/song/"+song2, lan.access, nil, 403)
	c.call("DELETE", "/v1/song/:id", "/v1/song/"+song2, mgr.access, nil, 204)
	c.call("DELETE", "/v1/artist/:id", "/v1/artist/"+feat, mgr.access, nil, 409) // still credited on a song
	lone := idOf(t, c.call("POST", "/v1/artist", "/v1/artist", mgr.access, map[string]string{"name": "Hòa Minzy"}, 200))
	c.call("DELETE", "/v1/artist/:id", "/v1/artist/"+lone, mgr.access, nil, 204)
	c.call("DELETE", "/v1/user/:id", "/v1/user/"+mgr.id, lan.access, nil, 403)
	extra := signup("tam@hust.vn", "Mỹ Tâm fan")
	c.call("DELETE", "/v1/user/:id", "/v1/user/"+extra.id, admin.access, nil, 204)
	c.call("GET", "/v1/auth/signout", "/v1/auth/signout", lan.access, nil, 204)

	// Every documented operation was exercised.
	paths, _ := c.doc["paths"].(map[string]any)
	for p, item := range paths {
		for method := range item.(map[string]any) {
			if c.covered[strings.ToUpper(method)+" "+p] == nil {
				t.Errorf("documented %s %s was never exercised: add a request above", strings.ToUpper(method), p)
			}
		}
	}

	// The event catalogue's streams are the streams events really land in.
	checkCatalogueStreams(t, api.app.env.store)
}

// checkCatalogueStreams compares the stream category of every event the
// world produced with the one docs/events.md states.
func checkCatalogueStreams(t *testing.T, store eventstore.Store) {
	t.Helper()
	batch, err := store.ReadAll(context.Background(), 0, 100000, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range batch.Events {
		category, _, _ := strings.Cut(e.StreamID, "-")
		want, ok := eventStreams[e.Type]
		if !ok {
			t.Fatalf("event %s (stream %s) has no stream in the catalogue", e.Type, e.StreamID)
		}
		if !strings.HasPrefix(want, category+"-") {
			t.Errorf("event %s lands in %s, the catalogue says %s", e.Type, e.StreamID, want)
		}
		seen[e.Type] = true
	}
	if len(seen) < 15 {
		t.Fatalf("only %d event types in the world: %v", len(seen), seen)
	}
}

// The rate-limited routes answer 429 with {"message","retryAfter"} and
// Retry-After, as documented.
func TestOpenAPIRateLimitAnswer(t *testing.T) {
	api := newTestAPI(t, map[string]string{"HUSTMUSIK_AUTH_RATE_PER_MINUTE": "1"})
	c := newContract(t, api)
	body := map[string]string{"email": "khong-co@hust.vn", "password": "mat-khau-1"}
	for i := 0; ; i++ {
		r := api.do("POST", "/v1/auth/signin", "", body)
		if r.status == http.StatusTooManyRequests {
			c.validate("POST", "/v1/auth/signin", "/v1/auth/signin", r)
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			return
		}
		c.validate("POST", "/v1/auth/signin", "/v1/auth/signin", r)
		if i > 30 {
			t.Fatalf("never rate limited; last answer %d", r.status)
		}
	}
}

// The schema checker reports each kind of drift it exists to catch.
func TestOpenAPISchemaCheckerReportsDrift(t *testing.T) {
	api := newTestAPI(t, nil)
	c := newContract(t, api)
	profile := map[string]any{"$ref": "#/components/schemas/Profile"}
	good := map[string]any{"id": "5b1f3c2e-8d4a-4f6b-9c1e-2a7d9e0f4b31", "username": "Lan Nguyễn", "avatarurl": "",
		"country": "Việt Nam", "role": "User"}
	if p := c.checker.check(profile, good, "body"); len(p) > 0 {
		t.Fatalf("a valid profile: %v", p)
	}
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"undocumented field", func(m map[string]any) { m["email"] = "lan@hust.vn" }, `field "email" is not documented`},
		{"missing field", func(m map[string]any) { delete(m, "country") }, `required "country" missing`},
		{"null where a string is promised", func(m map[string]any) { m["avatarurl"] = nil }, "body.avatarurl: null"},
		{"wrong type", func(m map[string]any) { m["username"] = 7.0 }, "body.username: integer"},
		{"unknown enum value", func(m map[string]any) { m["role"] = "Superuser" }, "not one of"},
	} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		tc.change(m)
		problems := strings.Join(c.checker.check(profile, m, "body"), "\n")
		if !strings.Contains(problems, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, problems, tc.want)
		}
	}
	// A nullable field accepts null and its type, nothing else.
	me := map[string]any{"$ref": "#/components/schemas/MyProfile"}
	for v, ok := range map[any]bool{nil: true, "2026-12-29T08:30:00Z": true, 3.0: false} {
		m := map[string]any{"created_at": "2026-11-29T08:30:00Z", "premium_until": v}
		for k, val := range good {
			m[k] = val
		}
		if got := len(c.checker.check(me, m, "body")) == 0; got != ok {
			t.Errorf("premium_until=%v: valid %v, want %v", v, got, ok)
		}
	}
}
