package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// TrailEntry is one event of an order's trail: when, what, who, through
// which door, and what it said (the gateway's raw codes included).
type TrailEntry struct {
	Position uint64          `json:"position"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	Source   string          `json:"source"`
	Data     json.RawMessage `json:"data"`
}

// Orders answers the order queries.
type Orders struct {
	pool       *pgxpool.Pool
	configured bool
}

// NewOrders makes the order queries; configured is whether payments are
// (without a gateway the order endpoints answer 503).
func NewOrders(pool *pgxpool.Pool, configured bool) *Orders {
	return &Orders{pool: pool, configured: configured}
}

// Trail is the order's events, oldest first, if p may see it: its buyer,
// an Admin or an Auditor. Anyone else learns only that it is not found.
func (q *Orders) Trail(ctx context.Context, p domain.Principal, id string) ([]TrailEntry, error) {
	var owner string
	err := q.pool.QueryRow(ctx, `SELECT user_id::text FROM orders WHERE app_trans_id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.NotFound("Order not found")
	}
	if err != nil {
		return nil, fmt.Errorf("order owner: %w", err)
	}
	if owner != p.UserID && p.Role != domain.RoleAdmin && p.Role != domain.RoleAuditor {
		return nil, domain.NotFound("Order not found")
	}
	rows, err := q.pool.Query(ctx, `SELECT position, occurred_at, event_type, actor_id, source, data
		FROM order_events WHERE app_trans_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("order trail: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrailEntry, error) {
		var e TrailEntry
		var data []byte
		err := r.Scan(&e.Position, &e.Time, &e.Type, &e.Actor, &e.Source, &data)
		e.Time, e.Data = e.Time.UTC(), data
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("order trail: %w", err)
	}
	return out, nil
}

// GetEvents serves GET /v1/order/:app_trans_id/events.
func (q *Orders) GetEvents(c *gin.Context) {
	if !q.configured {
		httpapi.Error(c, domain.Errorf(domain.ErrUnavailable, "Payments are not configured"))
		return
	}
	trail, err := q.Trail(c.Request.Context(), httpapi.Principal(c), c.Param("app_trans_id"))
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.List(c, len(trail), trail)
}
