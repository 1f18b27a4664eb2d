package esdbstore

import (
	"fmt"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Positions.
//
// KurrentDB places every record of its transaction log at a byte offset, and
// an event's place in $all is the pair (commit, prepare): where its commit
// was written and where the event itself was written. Explicit transactions
// (the legacy TCP API) let several events share one commit record, which is
// why the pair exists. Since EventStoreDB 20 the gRPC API has no explicit
// transactions: an append writes each event as a self-committed prepare
// record, so each event has its own commit position, equal to its prepare
// position, and commit positions strictly increase along $all. That makes
// the commit position alone a faithful uint64 for the port's Position:
// unique per event, ordered like $all, never 0 for a real record (the log
// starts with a chunk header and the epoch records). Position 0 stays
// "before the first event".
//
// Going back, a port position p becomes (p, p): the position of the event
// whose commit is p. Inside one subscription the store keeps the server's
// full pair, so it only synthesises a pair from a stored checkpoint.

// noPosition is what a server too old to report positions on stream reads
// sends (-1 as unsigned); KurrentDB/EventStoreDB since 22.6 fill them in for
// events written without explicit transactions.
const noPosition = math.MaxUint64

// encodePosition turns the server's $all position into the port's.
func encodePosition(p esdb.Position) (uint64, error) {
	if p.Commit == noPosition {
		return 0, fmt.Errorf("esdbstore: the server reported no $all position for an event (EventStoreDB 22.6 or later reports them on stream reads)")
	}
	if p.Prepare != noPosition && p.Prepare > p.Commit {
		return 0, fmt.Errorf("esdbstore: $all position (commit %d, prepare %d) has its prepare after its commit", p.Commit, p.Prepare)
	}
	return p.Commit, nil
}

// decodePosition turns a port position into where to read $all from:
// the start of the log for 0, else the event at that commit position.
func decodePosition(pos uint64) esdb.AllPosition {
	if pos == 0 {
		return esdb.Start{}
	}
	return esdb.Position{Commit: pos, Prepare: pos}
}
