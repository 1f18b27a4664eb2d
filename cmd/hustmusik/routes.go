package main

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/infra/httpapi"
	"github.com/hustmusik/backend/readapi"
)

type handlers struct {
	collections      *readapi.Collections
	collectionWrites *commands.CollectionsHTTP
	identity         *commands.IdentityHTTP
	google           *commands.GoogleHTTP
	users            *readapi.Users
	catalog          *commands.CatalogHTTP
	artists          *readapi.Artists
	songs            *readapi.Songs
	library          *commands.LibraryHTTP
	libraryReads     *readapi.Library
	media            *commands.MediaHTTP
	orders           *commands.OrdersHTTP
	orderReads       *readapi.Orders
	events           *readapi.Events
	stats            *readapi.Stats
	search           *readapi.Search
	reference        referenceHTTP
}

// access says who may call a route; the middleware checks it before the
// handler runs.
type access int

const (
	public   access = iota // anyone; a token, if usable, identifies the caller
	signedIn               // a valid access token is required (401 otherwise)
)

type route struct {
	method, path string
	access       access
	limited      bool // rate limited per client IP
	handler      gin.HandlerFunc
}

// table is the whole /v1 surface in one place. Order matters for readers
// only: /v1/user/me routes are static and win over /v1/user/:id.
func (h handlers) table() []route {
	return []route{
		// Auth
		{"POST", "/v1/auth/signup", public, true, h.identity.SignUp},
		{"POST", "/v1/auth/signin", public, true, h.identity.SignIn},
		{"GET", "/v1/auth/signout", signedIn, true, h.identity.SignOut},
		{"POST", "/v1/auth/credentials", signedIn, true, h.identity.Credentials},
		{"POST", "/v1/auth/session/renew", public, true, h.identity.Renew},
		{"GET", "/v1/auth/oauth", public, true, h.google.Start},
		{"GET", "/v1/auth/oauth/callback", public, true, h.google.Callback},

		// Users
		{"GET", "/v1/user", public, false, h.users.GetAll},
		{"GET", "/v1/user/me", signedIn, false, h.users.GetMe},
		{"GET", "/v1/user/me/playlists", signedIn, false, h.collections.GetMine},
		{"POST", "/v1/user/me", signedIn, false, h.identity.UpdateMe},
		{"GET", "/v1/user/me/history", signedIn, false, h.libraryReads.GetHistory},
		{"POST", "/v1/user/me/history/:songid", signedIn, false, h.library.RecordListen},
		{"GET", "/v1/user/me/following", signedIn, false, h.libraryReads.GetFollowing},
		{"POST", "/v1/user/me/following/:artistid", signedIn, false, h.library.Follow},
		{"DELETE", "/v1/user/me/following/:artistid", signedIn, false, h.library.Unfollow},
		{"GET", "/v1/user/:id", public, false, h.users.GetByID},
		{"DELETE", "/v1/user/:id", signedIn, false, h.identity.DeleteUser},
		{"POST", "/v1/user/:id/role", signedIn, false, h.identity.SetRole},

		// Songs
		{"GET", "/v1/song", public, false, h.songs.GetAll},
		{"GET", "/v1/song/:id", public, false, h.songs.GetByID},
		{"POST", "/v1/song", signedIn, false, h.catalog.AddSong},
		{"POST", "/v1/song/:id", signedIn, false, h.catalog.UpdateSong},
		{"DELETE", "/v1/song/:id", signedIn, false, h.catalog.DeleteSong},
		{"GET", "/v1/song/:id/presigned/upload", signedIn, false, h.media.UploadURL},
		{"GET", "/v1/song/:id/presigned/stream", public, false, h.media.StreamURL},
		{"GET", "/v1/song/:id/stats", public, false, h.stats.GetSong},

		// Artists
		{"GET", "/v1/artist", public, false, h.artists.GetAll},
		{"GET", "/v1/artist/:id", public, false, h.artists.GetByID},
		{"GET", "/v1/artist/:id/songs", public, false, h.artists.GetSongs},
		{"GET", "/v1/artist/:id/albums", public, false, h.artists.GetAlbums},
		{"POST", "/v1/artist", signedIn, false, h.catalog.AddArtist},
		{"POST", "/v1/artist/:id", signedIn, false, h.catalog.UpdateArtist},
		{"DELETE", "/v1/artist/:id", signedIn, false, h.catalog.DeleteArtist},

		// Collections: playlists and albums are static siblings of :id.
		{"GET", "/v1/collection", public, false, h.collections.GetAll},
		{"GET", "/v1/collection/playlists", public, false, h.collections.GetPlaylists},
		{"GET", "/v1/collection/albums", public, false, h.collections.GetAlbums},
		{"GET", "/v1/collection/:id", public, false, h.collections.GetByID},
		{"POST", "/v1/collection", signedIn, false, h.collectionWrites.Create},
		{"POST", "/v1/collection/:id", signedIn, false, h.collectionWrites.Update},
		{"DELETE", "/v1/collection/:id", signedIn, false, h.collectionWrites.Delete},
		{"POST", "/v1/collection/:id/songs/:songid", signedIn, false, h.collectionWrites.AddSong},
		{"DELETE", "/v1/collection/:id/songs/:songid", signedIn, false, h.collectionWrites.RemoveSong},

		// Orders: checkout and its callback are static and win over
		// :app_trans_id. The callback is not rate limited: it comes from
		// ZaloPay's few servers, is MAC-verified, and a throttled one is a
		// payment noticed late.
		{"POST", "/v1/order/checkout", signedIn, true, h.orders.Checkout},
		{"POST", "/v1/order/checkout/callback", public, false, h.orders.Callback},
		{"POST", "/v1/order/:app_trans_id", signedIn, true, h.orders.Status},
		{"GET", "/v1/order/:app_trans_id", signedIn, true, h.orders.Status},
		{"GET", "/v1/order/:app_trans_id/events", signedIn, true, h.orderReads.GetEvents},

		// Admin: the event log for Admins and Auditors (checked by the handler).
		{"GET", "/v1/admin/events", signedIn, false, h.events.Export},

		// The OpenAPI document of this table (docs/, rendered at /docs).
		{"GET", "/v1/openapi.json", public, false, h.reference.document},

		// Search: public; a token, if any, adds the caller's private
		// playlists. /v1/search (and /v1/search/) is a search for nothing.
		{"GET", "/v1/search", public, false, h.search.GetEmpty},
		{"GET", "/v1/search/:term", public, false, h.search.GetAll},
		{"GET", "/v1/search/:term/songs", public, false, h.search.GetSongs},
		{"GET", "/v1/search/:term/artists", public, false, h.search.GetArtists},
		{"GET", "/v1/search/:term/albums", public, false, h.search.GetAlbums},
		{"GET", "/v1/search/:term/playlists", public, false, h.search.GetPlaylists},
		{"GET", "/v1/search/:term/users", public, false, h.search.GetUsers},
	}
}

func routes(srv *httpapi.Server, h handlers, authPerMinute int) {
	r := srv.Engine()
	authLimit := httpapi.RateLimit("auth", authPerMinute, max(5, authPerMinute/3))
	// Orders get buckets of their own: paying must not use up signing in.
	orderLimit := httpapi.RateLimit("order", authPerMinute, max(5, authPerMinute/3))
	// Per account as well as per IP: one account guessed at, or paying and
	// uploading, from many addresses (docs/security.md).
	perAccount := map[string]gin.HandlerFunc{
		"POST /v1/auth/signin":              httpapi.RateLimitField("signin-account", "email", authPerMinute, max(5, authPerMinute/3)),
		"POST /v1/order/checkout":           httpapi.RateLimitUser("checkout-user", authPerMinute, max(5, authPerMinute/3)),
		"GET /v1/song/:id/presigned/upload": httpapi.RateLimitUser("upload-user", 2*authPerMinute, max(40, authPerMinute)),
	}
	// Upload grants are also limited per song (30 per 15 minutes, by the
	// command): these buckets are wider, they stop a flood across songs.
	uploadLimit := httpapi.RateLimit("upload", 2*authPerMinute, max(40, authPerMinute))
	for _, rt := range h.table() {
		var chain []gin.HandlerFunc
		switch {
		case rt.limited && strings.HasPrefix(rt.path, "/v1/order"):
			chain = append(chain, orderLimit)
		case rt.limited:
			chain = append(chain, authLimit)
		case strings.HasSuffix(rt.path, "/presigned/upload"):
			chain = append(chain, uploadLimit)
		}
		if rt.access == signedIn {
			chain = append(chain, httpapi.RequireUser())
		}
		if lim, ok := perAccount[rt.method+" "+rt.path]; ok {
			chain = append(chain, lim)
		}
		chain = append(chain, rt.handler)
		r.Handle(rt.method, rt.path, chain...)
	}
}
