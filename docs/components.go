package apidocs

// Example ids, reused so that the examples of one page tell one story:
// Lan listens to "Chúng Ta Của Hiện Tại" by Sơn Tùng M-TP.
const (
	exUser       = "5b1f3c2e-8d4a-4f6b-9c1e-2a7d9e0f4b31"
	exManager    = "0e6f8a21-3b5c-4d7e-8f90-a1b2c3d4e5f6"
	exArtist     = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	exArtist2    = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	exSong       = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	exCollection = "3d594650-3436-4b42-9e1a-2b5f1c0d7e88"
	exAppTransID = "261129_6f1c0d7e88a14b2c"
	exDate       = "2026-11-29T08:30:00Z"
	exThumb      = "https://res.cloudinary.com/hustmusik/image/upload/songs/i-9f8e7d6c.jpg"
	exAvatar     = "https://res.cloudinary.com/hustmusik/image/upload/artists/i-7c9e6679.jpg"
)

var (
	roles           = []string{"User", "Artist Manager", "Admin", "Auditor"}
	collectionTypes = []string{"Album", "Single", "EP", "Playlist", "Mix"}
)

// schemas are the named shapes of the wire contract (API.md), field for
// field as the readapi and commands packages encode them.
func schemas() object {
	artistRef := closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP")})
	return object{
		"Error": withDescription(closed(object{"error": str("Song does not exist")}),
			"Every 4xx/5xx answer: a human readable message, never a stack or SQL."),
		"RateLimited": withDescription(closed(object{
			"message":    str("Too many requests, please try again later."),
			"retryAfter": withDescription(integer(12), "seconds; also in the Retry-After header"),
		}), "429 of the rate-limited /v1/auth and /v1/order routes."),
		"Health": closed(object{"msg": str("Server is healthy"), "last_checked": dateTime(exDate)}),
		"Ready": closed(object{
			"status": enum("ready", "ready", "not ready"),
			"failed": withDescription(object{"type": "object", "additionalProperties": str("no answer in time")},
				"failed checks by name (only when not ready)"),
		}, "failed"),
		"URL":     closed(object{"url": str("http://localhost:7554/blob/audio/9f8e7d6c.mp3?exp=1764406200&sig=...")}),
		"Message": closed(object{"message": str("Collection " + exCollection + " is being deleted")}),
		"Role":    enum("User", roles...),
		"AuthUser": closed(object{
			"id": uuidStr(exUser), "aud": enum("authenticated", "authenticated"), "username": str("Lan Nguyễn"),
			"role": ref("Role"), "email_verified": boolean(false),
		}),
		"Session": closed(object{
			"access_token":  str("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI1YjFmM2MyZSJ9.c2lnbmF0dXJl"),
			"expires_in":    withDescription(integer(3600), "seconds the access token stays valid"),
			"refresh_token": str("rt_9q2W7vXk1Lm8Zp0Yc4Hs6Jd3Fg5Tb"),
		}),
		"AuthAnswer": withDescription(closed(object{"user": ref("AuthUser"), "session": ref("Session")}),
			"Unwrapped (no data envelope): the frontend reads user and session at top level."),
		"UserListItem": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn"), "role": ref("Role"),
			"avatarurl": str("")}),
		"Profile": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn"), "avatarurl": str(""),
			"country": str("Việt Nam"), "role": ref("Role")}),
		"MyProfile": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn"), "avatarurl": str(""),
			"country": str("Việt Nam"), "role": ref("Role"), "created_at": dateTime(exDate),
			"premium_until": withDescription(nullable(dateTime("2026-12-29T08:30:00Z")), "null when Premium was never bought"),
		}),
		"MyCollection": closed(object{"id": uuidStr(exCollection), "title": str("Nhạc chill cuối tuần"),
			"description": str("Những bài hát nhẹ nhàng"), "thumbnailurl": str(""), "type": ref("CollectionType")}),
		"ArtistRef": artistRef,
		"SongArtistBoth": withDescription(closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"),
			"artist": ref("ArtistRef")}), "Both forms, as the frontend reads either."),
		"HistoryEntry": closed(object{"last_listened": dateTime(exDate), "songs": closed(object{
			"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"), "duration": integer(301),
			"thumbnailurl": str(exThumb), "artists": array(ref("SongArtistBoth"))})}),
		"FollowedArtist": closed(object{"artist": closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"),
			"avatarurl": str(exAvatar)})}),
		"SongListItem": closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
			"thumbnailurl": str(exThumb), "duration": integer(301), "releasedate": str("2020-12-20"), "genre": str("V-Pop"),
			"views": integer(1250000), "artists": array(ref("SongArtistBoth"))}),
		"Song": withDescription(closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
			"thumbnailurl": str(exThumb), "duration": integer(301), "releasedate": str("2020-12-20"), "genre": str("V-Pop"),
			"views":   integer(1250000),
			"artists": array(closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"), "avatarurl": str(exAvatar)})),
			"albums": array(closed(object{"album": closed(object{"id": uuidStr(exCollection), "title": str("Sky Tour"),
				"type": ref("CollectionType"), "thumbnailurl": str("")})})),
		}), "Not wrapped in data: the frontend's server-rendered page reads the fields at top level."),
		"WrittenSong": closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
			"description": str("Ca khúc cuối năm 2020"), "thumbnailurl": str(exThumb), "duration": integer(301),
			"releasedate": str("2020-12-20"), "genre": str("V-Pop"),
			"artists": array(closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"), "avatarurl": str(exAvatar)}))}),
		"SongStats": closed(object{"song_id": uuidStr(exSong), "total": integer(42),
			"days": array(closed(object{"day": str("2026-11-28"), "plays": integer(17)}))}),
		"ArtistListItem": closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"), "avatarurl": str(exAvatar)}),
		"Artist": closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"),
			"description": str("Ca sĩ, nhạc sĩ người Thái Bình"), "avatarurl": str(exAvatar), "country": str("Việt Nam"),
			"managerid": uuidStr(exManager)}),
		"ArtistSong": closed(object{"song": closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
			"thumbnailurl": str(exThumb)})}),
		"ArtistAlbum": closed(object{"id": uuidStr(exCollection), "title": str("Sky Tour"), "thumbnailurl": str(""),
			"created_at": dateTime(exDate), "type": ref("CollectionType")}),
		"CollectionType": enum("Playlist", collectionTypes...),
		"Visibility":     enum("Public", "Public", "Private"),
		"CollectionListItem": closed(object{"id": uuidStr(exCollection), "title": str("Nhạc chill cuối tuần"),
			"type": ref("CollectionType"), "thumbnailurl": str(""),
			"owner": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn")})}),
		"CollectionDetail": closed(object{"id": uuidStr(exCollection), "title": str("Nhạc chill cuối tuần"),
			"description": str("Những bài hát nhẹ nhàng"), "type": ref("CollectionType"), "thumbnailurl": str(""),
			"owner": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn"), "avatarurl": str("")}),
			"songs": array(closed(object{"song": closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
				"thumbnailurl": str(exThumb), "duration": integer(301), "artists": array(ref("ArtistRef"))})})),
		}),
		"OrderItem": open(object{"itemname": str("Hust Musik Premium"), "itemprice": integer(59000),
			"itemquantity": integer(1)}, "itemname", "itemprice", "itemquantity"),
		"CheckoutAnswer": withDescription(closed(object{"return_code": integer(1), "return_message": str("Giao dịch thành công"),
			"sub_return_code": integer(1), "sub_return_message": str("Giao dịch thành công"),
			"zp_trans_token": str("ACxVv1kPbn7XhY0sBJsP4lNg"), "order_url": str("https://qcgateway.zalopay.vn/openinapp?order=eyJ6cHRyYW5zdG9rZW4iOiJBQ3hWdjFr"),
			"order_token": str("ACxVv1kPbn7XhY0sBJsP4lNg"), "qr_code": str("00020101021226520010vn.zalopay"),
			"app_trans_id": str(exAppTransID)}), "ZaloPay's create answer plus the order's app_trans_id."),
		"GatewayDown": closed(object{"error": str("Payment gateway unavailable, please try again later"),
			"app_trans_id": str(exAppTransID)}),
		"QueryAnswer": withDescription(closed(object{"return_code": withDescription(enum1(1, 1, 2, 3), "1 paid, 2 failed, 3 pending"),
			"return_message": str("Giao dịch thành công"), "sub_return_code": integer(1),
			"sub_return_message": str("Giao dịch thành công"), "is_processing": boolean(false), "amount": integer(59000),
			"discount_amount": integer(0), "zp_trans_id": integer(251129000000001)}), "ZaloPay's query answer, unwrapped."),
		"CallbackAnswer": closed(object{"return_code": withDescription(enum1(1, -1, 1, 2), "1 processed, -1 mac not equal, 2 repeat"),
			"return_message": str("success")}),
		"TrailEntry": closed(object{"position": integer(1042), "time": dateTime(exDate),
			"type": str("OrderPaid"), "actor": str(exUser), "source": withDescription(str("callback"), "api, callback, status poll, reconciler or cli"),
			"data": object{"type": "object", "description": "the event's data (see docs/events.md)"}}),
		"EventLine": withDescription(closed(object{"position": integer(1042), "stream": str("song-" + exSong),
			"revision": integer(0), "event_id": uuidStr("b5f0c7e2-1d3a-4e5f-8a9b-0c1d2e3f4a5b"), "type": str("SongAdded"),
			"recorded_at": dateTime(exDate),
			"metadata": closed(object{"occurred_at": dateTime(exDate), "actor_id": str(exManager),
				"correlation_id": str("b5f0c7e2-1d3a-4e5f-8a9b-0c1d2e3f4a5b"), "causation_id": str("b5f0c7e2-1d3a-4e5f-8a9b-0c1d2e3f4a5b"),
				"request_id": str("3f2a9c1b7d4e"), "schema_version": integer(1), "source": str("api")},
				"actor_id", "correlation_id", "causation_id", "request_id", "source"),
			"data": object{"type": "object", "description": "the event's data (see docs/events.md)"},
		}), "One line of the NDJSON event export."),
		"SearchSong": closed(object{"id": uuidStr(exSong), "title": str("Chúng Ta Của Hiện Tại"),
			"thumbnailurl": str(exThumb), "duration": integer(301), "views": integer(1250000), "releasedate": str("2020-12-20"),
			"genre": str("V-Pop"), "artists": array(ref("ArtistRef"))}),
		"SearchArtist": closed(object{"id": uuidStr(exArtist), "name": str("Sơn Tùng M-TP"), "avatarurl": str(exAvatar)}),
		"SearchCollection": closed(object{"id": uuidStr(exCollection), "title": str("Sky Tour"),
			"description": str("Album đầu tay"), "thumbnailurl": str(""), "type": ref("CollectionType"),
			"owner": closed(object{"id": uuidStr(exManager), "username": str("M-TP Entertainment"), "avatarurl": str("")})}),
		"SearchUser": closed(object{"id": uuidStr(exUser), "username": str("Lan Nguyễn"), "avatarurl": str("")}),
		"SearchAll": closed(object{"songs": array(ref("SearchSong")), "artists": array(ref("SearchArtist")),
			"albums": array(ref("SearchCollection")), "playlists": array(ref("SearchCollection")),
			"users": array(ref("SearchUser"))}),
	}
}

func enum1(example int64, values ...int64) object {
	return object{"type": "integer", "enum": values, "example": example}
}
