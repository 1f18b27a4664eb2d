package pgstore

import (
	"context"

	"github.com/hustmusik/backend/infra/eventstore"
)

// AppendLockKey lets tests hold the appenders' lock.
const AppendLockKey = appendLockKey

// BatchRequest is one append of a hand-made group-commit batch.
type BatchRequest struct {
	Ctx      context.Context
	Stream   string
	Expected eventstore.ExpectedRevision
	Events   []eventstore.EventData
}

// CommitBatch runs exactly these requests as one group-commit batch, the
// way the appender does, and returns each request's answer.
func (s *Store) CommitBatch(reqs []BatchRequest) ([]eventstore.AppendResult, []error) {
	results := make([]eventstore.AppendResult, len(reqs))
	errs := make([]error, len(reqs))
	var batch []*appendRequest
	var index []int
	for i, r := range reqs {
		req, err := newAppendRequest(r.Ctx, r.Stream, r.Expected, r.Events)
		if err != nil {
			errs[i] = err
			continue
		}
		batch, index = append(batch, req), append(index, i)
	}
	if len(batch) > 0 {
		s.commitBatch(batch)
	}
	for j, req := range batch {
		rep := <-req.reply
		results[index[j]], errs[index[j]] = rep.result, rep.err
	}
	return results, errs
}
