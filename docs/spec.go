package apidocs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// who may call an operation.
type caller int

const (
	anyone   caller = iota // no token needed; an unusable one means anonymous
	optional               // anonymous or signed in (a token widens what is visible)
	signedIn               // a valid access token (401 otherwise)
)

// operation is one row of the reference, written next to the route table's
// row it documents (cmd/hustmusik/routes.go). The drift test holds the two
// together.
type operation struct {
	method, path string // path in gin syntax, as in the route table
	tag          string
	summary      string
	description  string
	who          caller
	limited      bool     // rate limited per client IP: may answer 429
	query        []object // query parameters
	// body is the request's fields; multipart says a `file` part may come along.
	body      object
	multipart bool
	// example is the request body of the curl sample.
	example object
	status  int    // the success status
	answer  object // its schema; nil for 204 and 302
	// contentType of the success answer (application/json when empty).
	contentType string
	headers     object // headers of the success answer
	errors      []int  // failure statuses besides the ones every route has
}

func pageParams() []object {
	return []object{
		{"name": "page", "in": "query", "schema": object{"type": "integer", "minimum": 1, "default": 1},
			"description": "1-based page; out-of-range values are clamped, a non-number is 400"},
		{"name": "limit", "in": "query", "schema": object{"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
			"description": "rows per page, at most 50"},
	}
}

func queryParam(name, description string, schema object) object {
	return object{"name": name, "in": "query", "schema": schema, "description": description}
}

// imageFields are the text fields of a write that takes an image, and the
// file part.
var fileProp = object{"type": "string", "format": "binary",
	"description": "an image (png, jpg, jpeg, gif, avif, webp; at most 10 MB); the text `null` means no file"}

// operations is every documented route. Keep it in the route table's order.
func operations() []operation {
	songsOf := func(kind string, item string) operation {
		return operation{method: "GET", path: "/v1/search/:term/" + kind, tag: "Search",
			summary: "Search " + kind, who: optional, query: pageParams(),
			description: "One kind's page of results (default limit " + map[bool]string{true: "20", false: "30"}[kind == "songs"] + ").",
			status:      200, answer: dataOf(closed(object{kind: array(ref(item))}))}
	}
	return []operation{
		// Health and operations (outside /v1).
		{method: "GET", path: "/", tag: "Health", summary: "Check Health", who: anyone, status: 200, answer: ref("Health")},
		{method: "GET", path: "/readyz", tag: "Health", summary: "Readiness", who: anyone, status: 200, answer: ref("Ready"),
			description: "Ready when the database answers, the event store answers and the projections are caught up.",
			errors:      []int{503}},
		{method: "GET", path: "/metrics", tag: "Health", summary: "Prometheus metrics", who: anyone, status: 200,
			contentType: "text/plain", answer: object{"type": "string"},
			description: "Prometheus text format: HTTP traffic, appended events, per-projector lag (events and seconds), parked events."},
		{method: "GET", path: "/v1/openapi.json", tag: "Health", summary: "This document", who: anyone, status: 200,
			answer: object{"type": "object"}, description: "The OpenAPI 3.1 document rendered at /docs."},

		// Auth
		{method: "POST", path: "/v1/auth/signup", tag: "Auth", summary: "Register User", who: anyone, limited: true,
			body: open(object{"email": str("lan@example.vn"), "password": str("mat-khau-1"),
				"username": str("Lan Nguyễn"), "name": withDescription(str(""), "read when username is missing"),
				"country": str("Việt Nam"), "avatarurl": str("")}, "email"),
			multipart: true, example: object{"email": "lan@example.vn", "password": "mat-khau-1", "username": "Lan Nguyễn", "country": "Việt Nam"},
			status: 200, answer: ref("AuthAnswer"), errors: []int{409, 413},
			description: "Creates a password account and signs it in. Addresses in ADMIN_EMAILS become Admin."},
		{method: "POST", path: "/v1/auth/signin", tag: "Auth", summary: "Sign In", who: anyone, limited: true,
			body:    open(object{"email": str("lan@example.vn"), "password": str("mat-khau-1")}, "email", "password"),
			example: object{"email": "lan@example.vn", "password": "mat-khau-1"}, status: 200, answer: ref("AuthAnswer"),
			description: "400 on bad credentials, with the same message whether the email exists or not."},
		{method: "GET", path: "/v1/auth/signout", tag: "Auth", summary: "Sign Out", who: signedIn, limited: true, status: 204,
			description: "Revokes the refresh token of this session."},
		{method: "POST", path: "/v1/auth/credentials", tag: "Auth", summary: "Update User Credentials", who: signedIn, limited: true,
			body: open(object{"email": str("lan.nguyen@example.vn"), "password": str("mat-khau-moi-2"),
				"current_password": withDescription(str("mat-khau-1"), "needed to change the password")}),
			example: object{"password": "mat-khau-moi-2", "current_password": "mat-khau-1"}, status: 204, errors: []int{409}},
		{method: "POST", path: "/v1/auth/session/renew", tag: "Auth", summary: "Renew Session", who: anyone, limited: true,
			body:    open(object{"refresh_token": str("rt_9q2W7vXk1Lm8Zp0Yc4Hs6Jd3Fg5Tb")}, "refresh_token"),
			example: object{"refresh_token": "rt_9q2W7vXk1Lm8Zp0Yc4Hs6Jd3Fg5Tb"}, status: 200, answer: ref("AuthAnswer"),
			errors:      []int{401},
			description: "Rotates the refresh token. An unknown, expired, revoked or reused token is 401; reuse of a rotated token revokes the whole session family."},
		{method: "GET", path: "/v1/auth/oauth", tag: "Auth", summary: "Google Sign In", who: anyone, limited: true,
			query:  []object{queryParam("returnUrl", "where the frontend goes after signing in", str("/library"))},
			status: 200, answer: ref("URL"), errors: []int{503},
			description: "The Google authorize URL (state, nonce and PKCE S256). 503 when Google sign-in is not configured."},
		{method: "GET", path: "/v1/auth/oauth/callback", tag: "Auth", summary: "OAuth callback", who: anyone, limited: true,
			query:  []object{queryParam("code", "from Google", str("")), queryParam("state", "from Google", str(""))},
			status: 302, contentType: "text/html", answer: object{"type": "string", "description": "a link to the same place"},
			headers: object{"Location": object{"schema": str("http://localhost:3000/login#access_token=...&refresh_token=...&expires_in=3600"),
				"description": "the frontend's /login, with the session in the fragment or ?error=<reason>"}},
			description: "Google sends the browser here; it always answers with a redirect to the frontend."},

		// User
		{method: "GET", path: "/v1/user", tag: "User", summary: "Get All Users", who: optional, query: pageParams(),
			status: 200, answer: listOf(ref("UserListItem"))},
		{method: "GET", path: "/v1/user/me", tag: "User", summary: "Get User Profile", who: signedIn,
			status: 200, answer: dataOf(ref("MyProfile"))},
		{method: "GET", path: "/v1/user/me/playlists", tag: "User", summary: "Get User Playlists", who: signedIn,
			status: 200, answer: dataOf(array(ref("MyCollection"))), description: "Every collection the caller owns."},
		{method: "POST", path: "/v1/user/me", tag: "User", summary: "Update User Profile", who: signedIn,
			body:      open(object{"username": str("Lan Nguyễn"), "country": str("Việt Nam"), "avatarurl": str("")}),
			multipart: true, example: object{"country": "Việt Nam"}, status: 200, answer: dataOf(ref("Profile")),
			errors: []int{413}, description: "At least one field; a role field is ignored."},
		{method: "GET", path: "/v1/user/me/history", tag: "User", summary: "Get User Listen History", who: signedIn,
			query: []object{queryParam("limit", "entries, 20 by default", object{"type": "integer", "default": 20}),
				queryParam("before", "cursor: the last_listened of the previous page's last entry", str(exDate))},
			status: 200, answer: dataOf(array(ref("HistoryEntry"))), description: "Newest first."},
		{method: "POST", path: "/v1/user/me/history/:songid", tag: "User", summary: "Upsert User Listen History",
			who: signedIn, status: 204, errors: []int{404},
			description: "Records one listen (ListenRecorded); a repeat of the same song within a short window is the same listen."},
		{method: "GET", path: "/v1/user/me/following", tag: "User", summary: "Get Followed Artists", who: signedIn,
			status: 200, answer: dataOf(array(ref("FollowedArtist")))},
		{method: "POST", path: "/v1/user/me/following/:artistid", tag: "User", summary: "Follow Artist", who: signedIn,
			status: 204, errors: []int{404}, description: "Following twice is not an error."},
		{method: "DELETE", path: "/v1/user/me/following/:artistid", tag: "User", summary: "Unfollow Artist", who: signedIn,
			status: 204, errors: []int{404}},
		{method: "GET", path: "/v1/user/:id", tag: "User", summary: "Get User By ID", who: optional,
			status: 200, answer: dataOf(ref("Profile")), errors: []int{404}},
		{method: "DELETE", path: "/v1/user/:id", tag: "User", summary: "Delete User", who: signedIn,
			status: 204, errors: []int{403, 404}, description: "Admin only."},
		{method: "POST", path: "/v1/user/:id/role", tag: "User", summary: "Set User Role", who: signedIn,
			body: open(object{"role": ref("Role")}, "role"), example: object{"role": "Artist Manager"},
			status: 200, answer: dataOf(ref("Profile")), errors: []int{403, 404}, description: "Admin only."},

		// Song
		{method: "GET", path: "/v1/song", tag: "Song", summary: "Get All Songs", who: anyone, query: pageParams(),
			status: 200, answer: listOf(ref("SongListItem"))},
		{method: "GET", path: "/v1/song/:id", tag: "Song", summary: "Get Song By ID", who: anyone,
			status: 200, answer: ref("Song"), errors: []int{404}},
		{method: "POST", path: "/v1/song", tag: "Song", summary: "Add Song", who: signedIn, body: songBody("title", "artists"),
			multipart: true, example: object{"title": "Chúng Ta Của Hiện Tại", "artists": exArtist, "duration": "301",
				"releasedate": "2020-12-20", "genre": "V-Pop"},
			status: 200, answer: dataOf(ref("WrittenSong")), errors: []int{403, 404, 413},
			description: "An Artist Manager adds songs of their own artists; an Admin of any."},
		{method: "POST", path: "/v1/song/:id", tag: "Song", summary: "Update Song", who: signedIn, body: songBody(),
			multipart: true, example: object{"genre": "V-Pop", "description": "Bản phối mới"},
			status: 200, answer: dataOf(ref("WrittenSong")), errors: []int{403, 404, 413}},
		{method: "DELETE", path: "/v1/song/:id", tag: "Song", summary: "Delete Song", who: signedIn, status: 204,
			errors: []int{403, 404}, description: "The song leaves every collection and search; its audio is deleted."},
		{method: "GET", path: "/v1/song/:id/presigned/upload", tag: "Song", summary: "Generate Presigned Upload", who: signedIn,
			status: 200, answer: ref("URL"), errors: []int{403, 404, 429},
			description: "A PUT URL valid 15 minutes: PUT the mp3 with Content-Type: audio/mpeg. 30 grants per 15 minutes per song."},
		{method: "GET", path: "/v1/song/:id/presigned/stream", tag: "Song", summary: "Generate Presigned Download", who: anyone,
			status: 200, answer: ref("URL"), errors: []int{404, 429},
			description: "A GET URL valid 1 hour (audio/mpeg, inline); each grant adds one to the song's views."},
		{method: "GET", path: "/v1/song/:id/stats", tag: "Song", summary: "Song listen statistics", who: anyone,
			status: 200, answer: dataOf(ref("SongStats")), errors: []int{404},
			description: "Recorded listens in total and per day (UTC)."},

		// Artist
		{method: "GET", path: "/v1/artist", tag: "Artist", summary: "Get All Artists", who: optional,
			query:  append(pageParams(), queryParam("managed", "true: only the calling Artist Manager's artists", object{"type": "boolean"})),
			status: 200, answer: listOf(ref("ArtistListItem"))},
		{method: "GET", path: "/v1/artist/:id", tag: "Artist", summary: "Get Artist By ID", who: anyone,
			status: 200, answer: dataOf(array(ref("Artist"))), errors: []int{404},
			description: "An array of one, as the frontend expects."},
		{method: "GET", path: "/v1/artist/:id/songs", tag: "Artist", summary: "Artist songs", who: anyone, query: pageParams(),
			status: 200, answer: listOf(ref("ArtistSong")), errors: []int{404}},
		{method: "GET", path: "/v1/artist/:id/albums", tag: "Artist", summary: "Artist albums", who: anyone, query: pageParams(),
			status: 200, answer: listOf(ref("ArtistAlbum")), errors: []int{404}},
		{method: "POST", path: "/v1/artist", tag: "Artist", summary: "Add Artist", who: signedIn, body: artistBody("name"),
			multipart: true, example: object{"name": "Sơn Tùng M-TP", "country": "Việt Nam", "description": "Ca sĩ, nhạc sĩ người Thái Bình"},
			status: 200, answer: dataOf(ref("Artist")), errors: []int{403, 413},
			description: "Artist Manager or Admin; managerid is the caller."},
		{method: "POST", path: "/v1/artist/:id", tag: "Artist", summary: "Update Artist", who: signedIn, body: artistBody(),
			multipart: true, example: object{"description": "Chủ nhân của Chúng Ta Của Hiện Tại"},
			status: 200, answer: dataOf(ref("Artist")), errors: []int{403, 404, 413}},
		{method: "DELETE", path: "/v1/artist/:id", tag: "Artist", summary: "Delete Artist", who: signedIn, status: 204,
			errors: []int{403, 404, 409}, description: "409 while songs still credit the artist: delete them first."},

		// Collection
		{method: "GET", path: "/v1/collection", tag: "Collection", summary: "Get All Collections", who: optional,
			query: pageParams(), status: 200, answer: listOf(ref("CollectionListItem")),
			description: "Public collections, plus the caller's own private ones (an Admin sees all)."},
		{method: "GET", path: "/v1/collection/playlists", tag: "Collection", summary: "Get All Playlists", who: optional,
			query: pageParams(), status: 200, answer: listOf(ref("CollectionListItem"))},
		{method: "GET", path: "/v1/collection/albums", tag: "Collection", summary: "Get All Albums", who: optional,
			query: pageParams(), status: 200, answer: listOf(ref("CollectionListItem")), description: "Albums, EPs and Singles."},
		{method: "GET", path: "/v1/collection/:id", tag: "Collection", summary: "Get Collection By ID", who: optional,
			status: 200, answer: dataOf(ref("CollectionDetail")), errors: []int{404},
			description: "Songs in the collection's order. A private collection of someone else is 404."},
		{method: "POST", path: "/v1/collection", tag: "Collection", summary: "Add Collection", who: signedIn,
			body: collectionBody(), multipart: true,
			example: object{"title": "Nhạc chill cuối tuần", "description": "Những bài hát nhẹ nhàng", "type": "Playlist", "visibility": "Public"},
			status:  200, answer: dataOf(ref("CollectionDetail")), errors: []int{403, 413},
			description: "Playlists and Mixes for anyone; Albums, Singles and EPs for Artist Managers and Admins."},
		{method: "POST", path: "/v1/collection/:id", tag: "Collection", summary: "Update Collection", who: signedIn,
			body: collectionBody(), multipart: true, example: object{"visibility": "Private"},
			status: 200, answer: dataOf(ref("CollectionDetail")), errors: []int{403, 404, 413}},
		{method: "DELETE", path: "/v1/collection/:id", tag: "Collection", summary: "Delete Collection", who: signedIn,
			status: 200, answer: ref("Message"), errors: []int{403, 404}},
		{method: "POST", path: "/v1/collection/:id/songs/:songid", tag: "Collection", summary: "Add Song To Collection",
			who: signedIn, status: 204, errors: []int{403, 404}},
		{method: "DELETE", path: "/v1/collection/:id/songs/:songid", tag: "Collection", summary: "Delete Song From Collection",
			who: signedIn, status: 204, errors: []int{403, 404}},

		// Payment
		{method: "POST", path: "/v1/order/checkout", tag: "Payment", summary: "Create Zalo Order", who: signedIn, limited: true,
			body: open(object{"items": array(ref("OrderItem")),
				"userid": withDescription(uuidStr(exUser), "optional; must be the caller")}, "items"),
			example: object{"items": []object{{"itemname": "Hust Musik Premium", "itemprice": 59000, "itemquantity": 1}}},
			status:  200, answer: ref("CheckoutAnswer"), errors: []int{403, 502, 503},
			description: "Creates a ZaloPay order (amount = Σ price × quantity, VND). Each `Hust Musik Premium` unit paid adds 30 days of Premium."},
		{method: "POST", path: "/v1/order/checkout/callback", tag: "Payment", summary: "ZaloPay callback", who: anyone,
			body: open(object{"data": str(`{"app_id":2553,"app_trans_id":"` + exAppTransID + `","amount":59000}`),
				"mac": str("c0ffee..."), "type": integer(1)}, "data", "mac"),
			example: object{"data": `{"app_id":2553,"app_trans_id":"` + exAppTransID + `","amount":59000}`, "mac": "c0ffee", "type": 1},
			status:  200, answer: ref("CallbackAnswer"), errors: []int{503},
			description: "Called by ZaloPay; data is verified with key2 exactly as received. Not rate limited."},
		{method: "POST", path: "/v1/order/:app_trans_id", tag: "Payment", summary: "Get Zalo Order Status", who: signedIn,
			limited: true, status: 200, answer: ref("QueryAnswer"), errors: []int{403, 404, 502, 503},
			description: "Asks ZaloPay and records what it said. The order's owner, an Admin or an Auditor."},
		{method: "GET", path: "/v1/order/:app_trans_id", tag: "Payment", summary: "Get Zalo Order Status (GET)", who: signedIn,
			limited: true, status: 200, answer: ref("QueryAnswer"), errors: []int{403, 404, 502, 503}},
		{method: "GET", path: "/v1/order/:app_trans_id/events", tag: "Payment", summary: "Order trail", who: signedIn,
			limited: true, status: 200, answer: listOf(ref("TrailEntry")), errors: []int{403, 404},
			description: "Every state change of the order, oldest first, with time, actor and source."},

		// Admin
		{method: "GET", path: "/v1/admin/events", tag: "Admin", summary: "Export the event log", who: signedIn,
			query: []object{
				queryParam("type", "event types (repeat or comma-separate)", array(str("ListenRecorded"))),
				queryParam("after", "a log position; events after it", object{"type": "integer", "minimum": 0}),
				queryParam("limit", "events per page, 1000 by default, at most 10000", object{"type": "integer"}),
			},
			status: 200, contentType: "application/x-ndjson", answer: ref("EventLine"),
			headers: object{"X-Next-After": object{"schema": str("1042"), "description": "the position to pass as after for the next page"}},
			errors:  []int{403}, description: "Admins and Auditors. One JSON event per line (the schema is a line's)."},

		// Search
		{method: "GET", path: "/v1/search", tag: "Search", summary: "Empty search", who: optional, status: 400,
			answer: ref("Error"), description: "A search for nothing is 400."},
		{method: "GET", path: "/v1/search/:term", tag: "Search", summary: "Default Search", who: optional,
			status: 200, answer: dataOf(ref("SearchAll")),
			description: "Folds case and Vietnamese diacritics (\"son tung\" finds \"Sơn Tùng M-TP\"), matches prefixes, forgives small typos. `+` is a space."},
		songsOf("songs", "SearchSong"),
		songsOf("artists", "SearchArtist"),
		songsOf("albums", "SearchCollection"),
		songsOf("playlists", "SearchCollection"),
		songsOf("users", "SearchUser"),
	}
}

func songBody(required ...string) object {
	return open(object{"title": str("Chúng Ta Của Hiện Tại"),
		"artists":      withDescription(str(exArtist+","+exArtist2), "comma-separated artist ids: the first is Primary, the rest Featured"),
		"description":  str("Ca khúc cuối năm 2020"),
		"thumbnailurl": str(exThumb), "duration": withDescription(str("301"), "seconds"),
		"releasedate": str("2020-12-20"), "genre": str("V-Pop")}, required...)
}

func artistBody(required ...string) object {
	return open(object{"name": str("Sơn Tùng M-TP"), "description": str("Ca sĩ, nhạc sĩ người Thái Bình"),
		"avatarurl": str(exAvatar), "country": str("Việt Nam")}, required...)
}

func collectionBody() object {
	return open(object{"title": str("Nhạc chill cuối tuần"), "description": str("Những bài hát nhẹ nhàng"),
		"thumbnailurl": str(""), "type": withDescription(ref("CollectionType"), "any letter case"),
		"visibility": withDescription(ref("Visibility"), "any letter case")})
}

// errorResponses are the failure answers; every operation may answer 400
// (a malformed id, page or header) and 500.
func errorResponses() object {
	e := func(d string) object {
		return object{"description": d, "content": object{"application/json": object{"schema": ref("Error")}}}
	}
	return object{
		"400": e("Bad request: a malformed id, page, field or header"),
		"401": e("Missing, invalid or expired access token"),
		"403": e("Signed in, but not allowed"),
		"404": e("Does not exist (or is private to someone else)"),
		"409": e("Conflict: taken, or the same Idempotency-Key still in progress"),
		"413": e("Body too large (images at most 10 MB)"),
		"422": e("Idempotency-Key reused with a different request"),
		"429": object{"description": "Too many requests", "headers": object{"Retry-After": object{"schema": integer(12)}},
			"content": object{"application/json": object{"schema": ref("RateLimited")}}},
		"500": e("Internal server error (details only in the logs)"),
		"502": object{"description": "The payment gateway did not answer; the order is kept and reconciled",
			"content": object{"application/json": object{"schema": ref("GatewayDown")}}},
		"503": e("Not configured, or not ready"),
	}
}

// Document builds the OpenAPI 3.1 document of the whole API.
func Document() object {
	paths := object{}
	for _, op := range operations() {
		p := oasPath(op.path)
		item, _ := paths[p].(object)
		if item == nil {
			item = object{}
			paths[p] = item
		}
		item[strings.ToLower(op.method)] = op.build()
	}
	tags := []object{
		{"name": "Health", "description": "Liveness, readiness, metrics and this document (outside /v1 except the document)."},
		{"name": "Auth", "description": "Sign-up, sign-in, sessions, Google sign-in. Rate limited per client IP."},
		{"name": "User", "description": "Profiles, the caller's playlists, listen history and followed artists."},
		{"name": "Song", "description": "The song catalog, audio upload and stream URLs, listen statistics."},
		{"name": "Artist", "description": "Artists and their songs and albums."},
		{"name": "Collection", "description": "Albums, Singles, EPs, Playlists and Mixes."},
		{"name": "Search", "description": "Diacritic- and case-insensitive search over songs, artists, albums, playlists and users."},
		{"name": "Payment", "description": "ZaloPay orders: checkout, status, callback, order trail. Rate limited per client IP."},
		{"name": "Admin", "description": "The event log, for Admins and Auditors."},
	}
	return object{
		"openapi": "3.1.0",
		"info": object{
			"title":   "Hust Musik API",
			"version": "1",
			"description": "The /v1 REST API of Hust Musik, a music-streaming service.\n\n" +
				"Answers are JSON: `{\"data\": ...}`, lists `{\"count\", \"data\": [...]}`, errors `{\"error\": \"...\"}`. " +
				"Writes answer 200 with the new state (204 for deletes and relation changes) and the header `X-Position`; " +
				"send it back as `X-Min-Position` on a read to see your own write. " +
				"Writes accept JSON, and multipart/form-data with an image in the `file` part where noted.\n\n" +
				"Sign in with `POST /v1/auth/signin` and send `Authorization: Bearer <access_token>`.",
		},
		"servers": []object{{"url": "http://localhost:7554", "description": "make run"}},
		"tags":    tags,
		"paths":   paths,
		"components": object{
			"schemas":   schemas(),
			"responses": errorResponses(),
			"securitySchemes": object{"bearer": object{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
				"description": "The access_token of a session (HS256, expires after expires_in seconds)."}},
			"parameters": object{
				"IdempotencyKey": object{"name": "Idempotency-Key", "in": "header", "schema": str("b0d5d1b2-checkout-1"),
					"description": "A retry with the same key returns the first answer and appends nothing new."},
				"MinPosition": object{"name": "X-Min-Position", "in": "header", "schema": object{"type": "integer", "minimum": 0},
					"description": "Wait (bounded) until the read models have passed this log position (a write's X-Position)."},
			},
		},
	}
}

func (op operation) build() object {
	o := object{"tags": []string{op.tag}, "summary": op.summary,
		"operationId": operationID(op.method, op.path)}
	if op.description != "" {
		o["description"] = op.description
	}
	var params []object
	for _, name := range pathParams(op.path) {
		schema := uuidStr(exSong)
		switch name {
		case "term":
			schema = str("son tung")
		case "app_trans_id":
			schema = str(exAppTransID)
		case "artistid", "id":
			if strings.Contains(op.path, "artist") {
				schema = uuidStr(exArtist)
			}
		}
		params = append(params, object{"name": name, "in": "path", "required": true, "schema": schema})
	}
	params = append(params, op.query...)
	switch {
	case op.method == "POST" && op.body != nil:
		params = append(params, object{"$ref": "#/components/parameters/IdempotencyKey"})
	case op.method == "GET" && strings.HasPrefix(op.path, "/v1/"):
		params = append(params, object{"$ref": "#/components/parameters/MinPosition"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	switch op.who {
	case signedIn:
		o["security"] = []object{{"bearer": []string{}}}
	case optional:
		o["security"] = []object{{}, {"bearer": []string{}}}
	default:
		o["security"] = []object{}
	}
	if op.body != nil {
		content := object{"application/json": object{"schema": op.body, "example": op.example}}
		if op.multipart {
			form := object{}
			for k, v := range op.body["properties"].(object) {
				form[k] = v
			}
			form["file"] = fileProp
			mp := open(form)
			if req, ok := op.body["required"]; ok {
				mp["required"] = req
			}
			content["multipart/form-data"] = object{"schema": mp}
		}
		o["requestBody"] = object{"required": true, "content": content}
	}
	responses := object{}
	ok := object{"description": statusText(op.status)}
	if op.answer != nil {
		ct := op.contentType
		if ct == "" {
			ct = "application/json"
		}
		ok["content"] = object{ct: object{"schema": op.answer}}
	}
	headers := object{}
	for k, v := range op.headers {
		headers[k] = v
	}
	if op.method != "GET" && op.who == signedIn {
		headers["X-Position"] = object{"schema": str("1042"), "description": "log position of the write's last event"}
	}
	if len(headers) > 0 {
		ok["headers"] = headers
	}
	responses[strconv.Itoa(op.status)] = ok
	failures := append([]int{400, 500}, op.errors...)
	if op.who == signedIn {
		failures = append(failures, 401)
	}
	if op.limited {
		failures = append(failures, 429)
	}
	if op.method == "POST" && op.body != nil {
		failures = append(failures, 409, 422)
	}
	for _, s := range failures {
		if s == op.status {
			continue
		}
		responses[strconv.Itoa(s)] = object{"$ref": "#/components/responses/" + strconv.Itoa(s)}
	}
	o["responses"] = responses
	o["x-codeSamples"] = op.samples()
	return o
}

func statusText(status int) string {
	switch status {
	case 200:
		return "OK"
	case 204:
		return "Done; no body"
	case 302:
		return "Redirect to the frontend"
	case 400:
		return "Bad request"
	}
	return fmt.Sprint(status)
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(path, "/") {
		part = strings.Trim(part, ":*.")
		part = strings.NewReplacer("_", "", ".", "", "-", "").Replace(part)
		if part == "" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	if path == "/" {
		b.WriteString("Health")
	}
	return b.String()
}

// samples are curl commands a reader can copy (Redoc shows them as request
// samples, one tab per lang: the multipart one needs a lang of its own).
func (op operation) samples() []object {
	path := op.path
	for _, name := range pathParams(op.path) {
		v := exSong
		switch {
		case name == "term":
			v = "son+tung"
		case name == "app_trans_id":
			v = exAppTransID
		case strings.Contains(op.path, "artist") && (name == "id" || name == "artistid"):
			v = exArtist
		case strings.Contains(op.path, "collection") && name == "id":
			v = exCollection
		case strings.Contains(op.path, "/user/") && name == "id":
			v = exUser
		}
		path = strings.Replace(path, ":"+name, v, 1)
	}
	base := "curl -s"
	if op.method != "GET" {
		base += " -X " + op.method
	}
	base += " 'http://localhost:7554" + path + "'"
	if op.who == signedIn {
		base += " \\\n  -H \"Authorization: Bearer $TOKEN\""
	}
	out := []object{}
	if op.body != nil {
		raw, _ := json.Marshal(op.example)
		out = append(out, object{"lang": "curl", "label": "curl (JSON)", "source": base +
			" \\\n  -H 'Content-Type: application/json' \\\n  -d '" + string(raw) + "'"})
		if op.multipart {
			var form strings.Builder
			for _, k := range sortedKeys(op.example) {
				fmt.Fprintf(&form, " \\\n  -F '%s=%v'", k, op.example[k])
			}
			form.WriteString(" \\\n  -F 'file=@cover.jpg'")
			out = append(out, object{"lang": "Shell", "label": "curl (multipart)", "source": base + form.String()})
		}
		return out
	}
	return append(out, object{"lang": "curl", "source": base})
}

func sortedKeys(m object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
