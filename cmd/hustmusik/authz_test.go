package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The callers of the authorization matrix, in column order.
const (
	anon     = iota // no token
	user            // a plain User with no relation to the object
	owner           // the User who owns the object (playlist, order, profile)
	mgrOther        // an Artist Manager of another artist
	mgrThis         // the Artist Manager of the object's artist
	auditor         // an Auditor (made one by an Admin)
	admin           // an Admin
	nCallers
)

var callerNames = [nCallers]string{"anonymous", "user", "owner", "manager of another artist", "manager of this artist", "auditor", "admin"}

// authzRow is one request shape against one route of the table and the
// status each caller gets. path holds placeholders filled per cell:
// {artist} {song} {album} (of the managed artist), {bareartist} (another
// of its artists, with no songs), {private} {public}
// (playlists of the owner), {owner} (the owner's user id), {order} (the
// owner's order), {email} (a fresh address).
type authzRow struct {
	method, route string // as in the route table
	path          string
	body          any
	// fresh: the request destroys or changes its object (or the caller's
	// session), so each cell gets new objects and a new owner.
	fresh bool
	want  [nCallers]int
}

func all(status int) [nCallers]int {
	var w [nCallers]int
	for i := range w {
		w[i] = status
	}
	return w
}

// signedInAll: 401 for the anonymous caller, status for everyone else.
func signedInAll(status int) [nCallers]int {
	w := all(status)
	w[anon] = 401
	return w
}

// authzRows is the matrix. A route of the table without a row fails the
// test, and so does a row whose route is gone.
func authzRows() []authzRow {
	catalogWrite := func(ok int) [nCallers]int { return [nCallers]int{401, 403, 403, 403, ok, 403, ok} }
	// Another user's private object: 404, so a stranger learns nothing.
	private := func(ok int) [nCallers]int { return [nCallers]int{401, 404, ok, 404, 404, 404, ok} }
	// Someone else's public playlist: visible, so 403.
	publicOther := func(ok int) [nCallers]int { return [nCallers]int{401, 403, ok, 403, 403, 403, ok} }
	// Order status and trail: the buyer, Auditors and Admins.
	order := [nCallers]int{401, 404, 200, 404, 404, 200, 200}
	adminOnly := func(ok int) [nCallers]int { return [nCallers]int{401, 403, 403, 403, 403, 403, ok} }
	items := map[string]any{"items": []map[string]any{{"itemname": "Hust Musik Premium", "itemprice": 50000, "itemquantity": 1}}}
	return []authzRow{
		{"POST", "/v1/auth/signup", "/v1/auth/signup", map[string]string{"email": "{email}", "password": "mat-khau-1"}, false, all(200)},
		{"POST", "/v1/auth/signin", "/v1/auth/signin", map[string]string{"email": "{owneremail}", "password": "mat-khau-1"}, false, all(200)},
		{"GET", "/v1/auth/signout", "/v1/auth/signout", nil, true, signedInAll(204)},
		{"POST", "/v1/auth/credentials", "/v1/auth/credentials", map[string]string{"password": "mat-khau-2"}, true, signedInAll(400)},
		{"POST", "/v1/auth/session/renew", "/v1/auth/session/renew", map[string]string{}, false, all(401)},
		{"GET", "/v1/auth/oauth", "/v1/auth/oauth", nil, false, all(503)},
		{"GET", "/v1/auth/oauth/callback", "/v1/auth/oauth/callback?code=x&state=y", nil, false, all(302)},

		{"GET", "/v1/user", "/v1/user", nil, false, all(200)},
		{"GET", "/v1/user/me", "/v1/user/me", nil, false, signedInAll(200)},
		{"GET", "/v1/user/me/playlists", "/v1/user/me/playlists", nil, false, signedInAll(200)},
		{"POST", "/v1/user/me", "/v1/user/me", map[string]string{"country": "Việt Nam"}, false, signedInAll(200)},
		{"GET", "/v1/user/me/history", "/v1/user/me/history", nil, false, signedInAll(200)},
		{"POST", "/v1/user/me/history/:songid", "/v1/user/me/history/{song}", nil, false, signedInAll(204)},
		{"GET", "/v1/user/me/following", "/v1/user/me/following", nil, false, signedInAll(200)},
		{"POST", "/v1/user/me/following/:artistid", "/v1/user/me/following/{artist}", nil, false, signedInAll(204)},
		{"DELETE", "/v1/user/me/following/:artistid", "/v1/user/me/following/{artist}", nil, false, signedInAll(204)},
		{"GET", "/v1/user/:id", "/v1/user/{owner}", nil, false, all(200)},
		// Only an Admin deletes an account or changes a role, the owner included.
		{"DELETE", "/v1/user/:id", "/v1/user/{owner}", nil, true, adminOnly(204)},
		{"POST", "/v1/user/:id/role", "/v1/user/{owner}/role", map[string]string{"role": "Artist Manager"}, true, adminOnly(200)},

		{"GET", "/v1/song", "/v1/song", nil, false, all(200)},
		{"GET", "/v1/song/:id", "/v1/song/{song}", nil, false, all(200)},
		{"POST", "/v1/song", "/v1/song", map[string]string{"title": "Bài mới", "artists": "{artist}"}, false, catalogWrite(200)},
		{"POST", "/v1/song/:id", "/v1/song/{song}", map[string]string{"genre": "V-Pop"}, false, catalogWrite(200)},
		{"DELETE", "/v1/song/:id", "/v1/song/{song}", nil, true, catalogWrite(204)},
		{"GET", "/v1/song/:id/presigned/upload", "/v1/song/{song}/presigned/upload", nil, false, catalogWrite(200)},
		{"GET", "/v1/song/:id/presigned/stream", "/v1/song/{song}/presigned/stream", nil, false, all(200)},
		{"GET", "/v1/song/:id/stats", "/v1/song/{song}/stats", nil, false, all(200)},

		{"GET", "/v1/artist", "/v1/artist", nil, false, all(200)},
		{"GET", "/v1/artist/:id", "/v1/artist/{artist}", nil, false, all(200)},
		{"GET", "/v1/artist/:id/songs", "/v1/artist/{artist}/songs", nil, false, all(200)},
		{"GET", "/v1/artist/:id/albums", "/v1/artist/{artist}/albums", nil, false, all(200)},
		// Any Artist Manager adds an artist (and manages it).
		{"POST", "/v1/artist", "/v1/artist", map[string]string{"name": "Nghệ sĩ mới"}, false, [nCallers]int{401, 403, 403, 200, 200, 403, 200}},
		{"POST", "/v1/artist/:id", "/v1/artist/{artist}", map[string]string{"country": "VN"}, false, catalogWrite(200)},
		// An artist with songs is a 409 for everyone allowed: this one has none.
		{"DELETE", "/v1/artist/:id", "/v1/artist/{bareartist}", nil, true, catalogWrite(204)},

		{"GET", "/v1/collection", "/v1/collection", nil, false, all(200)},
		{"GET", "/v1/collection/playlists", "/v1/collection/playlists", nil, false, all(200)},
		{"GET", "/v1/collection/albums", "/v1/collection/albums", nil, false, all(200)},
		{"GET", "/v1/collection/:id", "/v1/collection/{private}", nil, false, [nCallers]int{404, 404, 200, 404, 404, 404, 200}},
		{"GET", "/v1/collection/:id", "/v1/collection/{public}", nil, false, all(200)},
		{"GET", "/v1/collection/:id", "/v1/collection/{album}", nil, false, all(200)},
		// Playlists are anyone's; albums are the catalog's.
		{"POST", "/v1/collection", "/v1/collection", map[string]string{"title": "Của tôi", "type": "playlist"}, false, signedInAll(200)},
		{"POST", "/v1/collection", "/v1/collection", map[string]string{"title": "Album", "type": "album"}, false, [nCallers]int{401, 403, 403, 200, 200, 403, 200}},
		{"POST", "/v1/collection/:id", "/v1/collection/{private}", map[string]string{"description": "x"}, false, private(200)},
		{"POST", "/v1/collection/:id", "/v1/collection/{public}", map[string]string{"description": "x"}, false, publicOther(200)},
		{"POST", "/v1/collection/:id", "/v1/collection/{album}", map[string]string{"description": "x"}, false, catalogWrite(200)},
		{"DELETE", "/v1/collection/:id", "/v1/collection/{private}", nil, true, private(200)},
		{"DELETE", "/v1/collection/:id", "/v1/collection/{public}", nil, true, publicOther(200)},
		{"POST", "/v1/collection/:id/songs/:songid", "/v1/collection/{private}/songs/{song}", nil, false, private(204)},
		{"POST", "/v1/collection/:id/songs/:songid", "/v1/collection/{album}/songs/{song}", nil, false, catalogWrite(204)},
		{"DELETE", "/v1/collection/:id/songs/:songid", "/v1/collection/{private}/songs/{song}", nil, true, private(204)},
		{"DELETE", "/v1/collection/:id/songs/:songid", "/v1/collection/{public}/songs/{song}", nil, true, publicOther(204)},

		{"POST", "/v1/order/checkout", "/v1/order/checkout", items, false, signedInAll(200)},
		// The callback is authenticated by its MAC, not by a token: a wrong
		// one is ZaloPay's 200 {"return_code": -1} for everyone.
		{"POST", "/v1/order/checkout/callback", "/v1/order/checkout/callback", map[string]any{"data": `{"app_trans_id":"x"}`, "mac": "00", "type": 1}, false, all(200)},
		{"POST", "/v1/order/:app_trans_id", "/v1/order/{order}", nil, false, order},
		{"GET", "/v1/order/:app_trans_id", "/v1/order/{order}", nil, false, order},
		{"GET", "/v1/order/:app_trans_id/events", "/v1/order/{order}/events", nil, false, order},

		{"GET", "/v1/admin/events", "/v1/admin/events", nil, false, [nCallers]int{401, 403, 403, 403, 403, 200, 200}},

		{"GET", "/v1/openapi.json", "/v1/openapi.json", nil, false, all(200)},

		// A search for nothing is a 400, whoever asks.
		{"GET", "/v1/search", "/v1/search", nil, false, all(400)},
		{"GET", "/v1/search/:term", "/v1/search/son%20tung", nil, false, all(200)},
		{"GET", "/v1/search/:term/songs", "/v1/search/bai/songs", nil, false, all(200)},
		{"GET", "/v1/search/:term/artists", "/v1/search/son/artists", nil, false, all(200)},
		{"GET", "/v1/search/:term/albums", "/v1/search/album/albums", nil, false, all(200)},
		{"GET", "/v1/search/:term/playlists", "/v1/search/nhac/playlists", nil, false, all(200)},
		{"GET", "/v1/search/:term/users", "/v1/search/lan/users", nil, false, all(200)},
	}
}

// authzWorld holds the accounts of the matrix's callers and the objects
// they act on.
type authzWorld struct {
	w                          *orderWorld
	plain, mgrA, mgrB, auditor account
	seq                        int
}

// authzObjects are the things one cell acts on.
type authzObjects struct {
	owner                                                   account
	ownerEmail                                              string
	artist, bareArtist, song, album, private, public, order string
}

func (aw *authzWorld) email(prefix string) string {
	aw.seq++
	return fmt.Sprintf("%s%d@authz.vn", prefix, aw.seq)
}

// newObjects makes a fresh owner with a private and a public playlist
// (each holding a song) and an order, and a fresh artist of mgrB (the
// "manager of this artist") with a song and an album.
func (aw *authzWorld) newObjects() authzObjects {
	api := aw.w.api
	t := api.t
	t.Helper()
	o := authzObjects{ownerEmail: aw.email("owner")}
	o.owner = api.signUp(o.ownerEmail, "Chủ")
	data := func(r answer) string { return r.json(t)["data"].(map[string]any)["id"].(string) }
	o.artist = data(api.expect(api.do("POST", "/v1/artist", aw.mgrB.access, map[string]string{"name": "Sơn Tùng M-TP"}), 200))
	o.bareArtist = data(api.expect(api.do("POST", "/v1/artist", aw.mgrB.access, map[string]string{"name": "Chưa có bài"}), 200))
	o.song = data(api.expect(api.do("POST", "/v1/song", aw.mgrB.access, map[string]string{"title": "Bài hát", "artists": o.artist}), 200))
	o.album = data(api.expect(api.do("POST", "/v1/collection", aw.mgrB.access, map[string]string{"title": "Album", "type": "Album", "visibility": "Public"}), 200))
	o.private = data(api.expect(api.do("POST", "/v1/collection", o.owner.access, map[string]string{"title": "Riêng tư", "type": "Playlist", "visibility": "Private"}), 200))
	o.public = data(api.expect(api.do("POST", "/v1/collection", o.owner.access, map[string]string{"title": "Nhạc chung", "type": "Playlist", "visibility": "Public"}), 200))
	for _, c := range []string{o.private, o.public} {
		api.expect(api.do("POST", "/v1/collection/"+c+"/songs/"+o.song, o.owner.access, nil), 204)
	}
	_, o.order = aw.w.checkout(o.owner.access, items("Hust Musik Premium", 50000, 1))
	return o
}

// token is the caller's access token for a cell; fresh cells sign in again
// so that a sign-out ends only that new session.
func (aw *authzWorld) token(caller int, o authzObjects, fresh bool) string {
	api := aw.w.api
	pick := map[int]account{user: aw.plain, owner: o.owner, mgrOther: aw.mgrA, mgrThis: aw.mgrB, auditor: aw.auditor, admin: aw.w.admin}
	if caller == anon {
		return ""
	}
	if !fresh || caller == owner {
		return pick[caller].access
	}
	emails := map[int]string{user: "plain@authz.vn", mgrOther: "mgr-a@authz.vn", mgrThis: "mgr-b@authz.vn", auditor: "auditor@authz.vn", admin: "admin@hust.vn"}
	r := api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": emails[caller], "password": "mat-khau-1"}), 200)
	return accountOf(api.t, r).access
}

func fillPath(s string, o authzObjects, email string) string {
	return strings.NewReplacer("{artist}", o.artist, "{bareartist}", o.bareArtist, "{song}", o.song, "{album}", o.album, "{private}", o.private,
		"{public}", o.public, "{owner}", o.owner.id, "{order}", o.order, "{owneremail}", o.ownerEmail, "{email}", email).Replace(s)
}

func fillBody(body any, o authzObjects, email string) any {
	switch b := body.(type) {
	case map[string]string:
		out := map[string]string{}
		for k, v := range b {
			out[k] = fillPath(v, o, email)
		}
		return out
	default:
		return body
	}
}

// TestAuthz runs every route of the route table as each kind of caller and
// checks the status. The rows are checked against the table first: a route
// without a row, or a row without a route, fails.
func TestAuthz(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	rows := authzRows()

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.method+" "+r.route] = true
	}
	routes := map[string]bool{}
	for _, rt := range api.app.handlers().table() {
		key := rt.method + " " + rt.path
		routes[key] = true
		if !covered[key] {
			t.Errorf("route %s has no row in the authorization matrix: add one to authzRows", key)
		}
	}
	for key := range covered {
		if !routes[key] {
			t.Errorf("matrix row %s names no route of the table", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	aw := &authzWorld{w: w}
	aw.plain = api.signUp("plain@authz.vn", "Lan")
	aw.mgrA = api.signUp("mgr-a@authz.vn", "Quản lý A")
	aw.mgrB = api.signUp("mgr-b@authz.vn", "Quản lý B")
	aw.auditor = api.signUp("auditor@authz.vn", "Kiểm toán")
	for _, m := range []account{aw.mgrA, aw.mgrB} {
		api.expect(api.do("POST", "/v1/user/"+m.id+"/role", w.admin.access, map[string]string{"role": "Artist Manager"}), 200)
	}
	api.expect(api.do("POST", "/v1/user/"+aw.auditor.id+"/role", w.admin.access, map[string]string{"role": "Auditor"}), 200)
	// Roles are in the token: sign in again to carry the new ones.
	for _, a := range []*account{&aw.mgrA, &aw.mgrB, &aw.auditor} {
		email := map[*account]string{&aw.mgrA: "mgr-a@authz.vn", &aw.mgrB: "mgr-b@authz.vn", &aw.auditor: "auditor@authz.vn"}[a]
		*a = accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{"email": email, "password": "mat-khau-1"}), 200))
	}

	shared := aw.newObjects()
	for _, row := range rows {
		for caller := range nCallers {
			o := shared
			if row.fresh {
				o = aw.newObjects()
			}
			email := aw.email("new")
			path := fillPath(row.path, o, email)
			r := api.do(row.method, path, aw.token(caller, o, row.fresh), fillBody(row.body, o, email))
			if r.status != row.want[caller] {
				t.Errorf("%s %s as %s: %d, want %d: %s", row.method, path, callerNames[caller], r.status, row.want[caller], r.body)
				continue
			}
			// Refusals are the API's error shape, never a bare status.
			if r.status >= 400 && !strings.Contains(string(r.body), `"error"`) {
				t.Errorf("%s %s as %s: %d without an error message: %s", row.method, path, callerNames[caller], r.status, r.body)
			}
		}
	}
	// An unknown id is 404 for everyone allowed to ask, never 403 or 500:
	// and so is an id of another user's private object (checked above).
	unknown := "00000000-0000-4000-8000-000000000000"
	for _, p := range []string{"/v1/collection/" + unknown, "/v1/song/" + unknown, "/v1/user/" + unknown, "/v1/artist/" + unknown} {
		for _, tok := range []string{"", aw.plain.access, w.admin.access} {
			if r := api.do(http.MethodGet, p, tok, nil); r.status != 404 {
				t.Errorf("GET %s: %d, want 404", p, r.status)
			}
		}
	}
}
