package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
)

// Users builds the `users` read model (public profiles and roles).
type Users struct{}

// Name is the checkpoint key: renaming it replays the projector.
func (Users) Name() string { return "users" }

// Filter selects the user events.
func (Users) Filter() eventstore.Filter {
	return eventstore.Filter{EventTypes: []string{
		domain.UserRegistered{}.EventType(), domain.UserProfileChanged{}.EventType(),
		domain.UserRoleChanged{}.EventType(), domain.UserDeleted{}.EventType(),
		domain.PremiumExtended{}.EventType(),
	}}
}

// Reset empties the read model.
func (Users) Reset(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `TRUNCATE users`)
	return err
}

// Apply writes a batch of user events, pipelined in one round trip.
func (Users) Apply(ctx context.Context, tx pgx.Tx, events []eventstore.RecordedEvent) error {
	b := &pgx.Batch{}
	for _, rec := range events {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.UserRegistered:
			// ON CONFLICT keeps a replay of the same event harmless.
			b.Queue(`INSERT INTO users (id, username, avatarurl, country, role, created_at, position)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
				e.UserID, e.Username, e.AvatarURL, e.Country, string(e.Role), rec.RecordedAt, rec.Position)
		case domain.UserProfileChanged:
			b.Queue(`UPDATE users SET username = coalesce($2, username), country = coalesce($3, country),
				avatarurl = coalesce($4, avatarurl), position = $5 WHERE id = $1`,
				e.UserID, e.Username, e.Country, e.AvatarURL, rec.Position)
		case domain.UserRoleChanged:
			b.Queue(`UPDATE users SET role = $2, position = $3 WHERE id = $1`, e.UserID, string(e.Role), rec.Position)
		case domain.UserDeleted:
			b.Queue(`DELETE FROM users WHERE id = $1`, e.UserID)
		case domain.PremiumExtended:
			b.Queue(`UPDATE users SET premium_until = $2, position = $3 WHERE id = $1`, e.UserID, e.Until, rec.Position)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("users projector: %w", err)
	}
	return nil
}
