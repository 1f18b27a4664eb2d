package projections

// Tables declares which PostgreSQL tables make up each read model, for the
// blue/green rebuild (RebuildBlueGreen), which copies them into a shadow
// schema, fills them from the log and swaps them in. They are kept here, in
// one place, rather than next to each projector so that the list can be
// checked at a glance against the migrations; a projector added later
// declares its own Tables method (ListenStats does).
//
// A table listed here must belong to that projector alone: the rebuild
// replaces it wholesale.

// Tables of the "users" projector.
func (Users) Tables() []string { return []string{"users"} }

// Tables of the "catalog" projector; song_artists references songs, and the
// rebuild recreates that foreign key between the new tables.
func (Catalog) Tables() []string { return []string{"artists", "songs", "song_artists"} }

// Tables of the "collections" projector (collection_songs references collections).
func (Collections) Tables() []string { return []string{"collections", "collection_songs"} }

// Tables of the "follows" projector.
func (Follows) Tables() []string { return []string{"follows"} }

// Tables of the "history" projector.
func (History) Tables() []string { return []string{"listen_history"} }

// Tables of the "orders" projector.
func (Orders) Tables() []string { return []string{"orders", "order_events"} }

// Tables of the "search" projector when its index is PostgreSQL's, written
// in the projector's transaction: its source tables, the documents and the
// vocabulary. An external index (Elasticsearch) is not a set of tables
// here: none, and the rebuild replays it in place.
func (s *Search) Tables() []string {
	if s.tx == nil {
		return nil
	}
	return []string{"search_src_users", "search_src_artists", "search_src_songs", "search_src_collections",
		"search_songs", "search_artists", "search_collections", "search_users", "search_vocabulary"}
}
