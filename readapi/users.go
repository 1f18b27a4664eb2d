// Package readapi serves every read of the /v1 API from the read models the
// projectors build. Its answer types are the wire contract; it never returns
// a domain aggregate.
package readapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// UserListItem is an entry of Get All Users.
type UserListItem struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Role      string `json:"role"`
	AvatarURL string `json:"avatarurl"`
}

// Profile is a user's public profile (no email, no secrets).
type Profile struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
	Country   string `json:"country"`
	Role      string `json:"role"`
}

// MyProfile is the caller's own profile.
type MyProfile struct {
	Profile
	CreatedAt time.Time `json:"created_at"`
	// PremiumUntil is when Premium ends; null when never bought.
	PremiumUntil *time.Time `json:"premium_until"`
}

// Users answers the user queries.
type Users struct {
	pool *pgxpool.Pool
}

// NewUsers makes the user queries on the read-model pool.
func NewUsers(pool *pgxpool.Pool) *Users { return &Users{pool: pool} }

// List is one page of users, oldest first, and the total count.
func (q *Users) List(ctx context.Context, page, limit int) (int, []UserListItem, error) {
	var count int
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&count); err != nil {
		return 0, nil, fmt.Errorf("count users: %w", err)
	}
	rows, err := q.pool.Query(ctx, `SELECT id::text, username, role, avatarurl FROM users
		ORDER BY created_at, id LIMIT $1 OFFSET $2`, limit, offset(page, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("list users: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserListItem, error) {
		var u UserListItem
		return u, r.Scan(&u.ID, &u.Username, &u.Role, &u.AvatarURL)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("list users: %w", err)
	}
	return count, items, nil
}

// ByID is one user's profile; 404 when unknown or deleted.
func (q *Users) ByID(ctx context.Context, id string) (MyProfile, error) {
	var p MyProfile
	err := q.pool.QueryRow(ctx, `SELECT id::text, username, avatarurl, country, role, created_at, premium_until FROM users WHERE id = $1`, id).
		Scan(&p.ID, &p.Username, &p.AvatarURL, &p.Country, &p.Role, &p.CreatedAt, &p.PremiumUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, domain.NotFound("User does not exist")
	}
	if err != nil {
		return p, fmt.Errorf("get user: %w", err)
	}
	if p.PremiumUntil != nil {
		utc := p.PremiumUntil.UTC()
		p.PremiumUntil = &utc
	}
	return p, nil
}

// GetAll serves GET /v1/user.
func (q *Users) GetAll(c *gin.Context) { listPage(c, httpapi.DefaultLimit, q.List) }

// GetByID serves GET /v1/user/:id.
func (q *Users) GetByID(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "user")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	p, err := q.ByID(c.Request.Context(), id)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, p.Profile)
}

// GetMe serves GET /v1/user/me.
func (q *Users) GetMe(c *gin.Context) {
	p, err := q.ByID(c.Request.Context(), httpapi.Principal(c).UserID)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, p)
}

func offset(page, limit int) int { return (page - 1) * limit }
