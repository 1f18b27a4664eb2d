package google

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
)

// DefaultStateTTL is how long a started sign-in may take to come back.
const DefaultStateTTL = 10 * time.Minute

// minStateLen keeps states unguessable: the state is both the lookup key
// and the sealing key of its row.
const minStateLen = 32

// ErrUnknownState is a state that was never issued, was already used, or
// expired. It is a domain not-found, whichever of the three it was.
var ErrUnknownState = domain.NotFound("Unknown, used or expired sign-in state")

// States keeps pending sign-ins in PostgreSQL (table oauth_states), so that
// the callback may land on any replica. Each state is used at most once.
type States struct {
	pool *pgxpool.Pool
	ttl  time.Duration
}

// NewStates makes the store; ttl 0 means DefaultStateTTL.
func NewStates(pool *pgxpool.Pool, ttl time.Duration) (*States, error) {
	if pool == nil {
		return nil, errors.New("google: states need a pool")
	}
	if ttl < 0 {
		return nil, errors.New("google: state TTL must not be negative")
	}
	if ttl == 0 {
		ttl = DefaultStateTTL
	}
	return &States{pool: pool, ttl: ttl}, nil
}

type sealedState struct {
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
}

// Save remembers a started sign-in under state. The row is keyed by a hash
// of state, and verifier and nonce are sealed with a key derived from state:
// whoever reads the table still lacks what the browser carries.
func (s *States) Save(ctx context.Context, state, verifier, nonce, returnURL string) error {
	if len(state) < minStateLen {
		return fmt.Errorf("google: state must be at least %d characters", minStateLen)
	}
	plain, err := json.Marshal(sealedState{Verifier: verifier, Nonce: nonce})
	if err != nil {
		return fmt.Errorf("google: seal state: %w", err)
	}
	id := stateID(state)
	aead, err := stateAEAD(state)
	if err != nil {
		return err
	}
	n := make([]byte, aead.NonceSize())
	rand.Read(n)
	sealed := aead.Seal(n, n, plain, id)
	// Sweep what nobody came back for; the index on created_at keeps it cheap.
	if _, err := s.pool.Exec(ctx, `DELETE FROM oauth_states WHERE created_at < now() - make_interval(secs => $1)`,
		s.ttl.Seconds()); err != nil {
		return fmt.Errorf("google: sweep states: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO oauth_states (id, sealed, return_url) VALUES ($1, $2, $3)`,
		id, sealed, returnURL); err != nil {
		return fmt.Errorf("google: save state: %w", err)
	}
	return nil
}

// Consume uses up state and returns what Save kept. A state already used,
// expired or never issued gives ErrUnknownState. The row is deleted in the
// same statement that reads it, so two callbacks racing with one state
// cannot both succeed.
func (s *States) Consume(ctx context.Context, state string) (verifier, nonce, returnURL string, err error) {
	if len(state) < minStateLen {
		return "", "", "", ErrUnknownState
	}
	id := stateID(state)
	var sealed []byte
	var fresh bool
	err = s.pool.QueryRow(ctx, `DELETE FROM oauth_states WHERE id = $1
		RETURNING sealed, return_url, created_at >= now() - make_interval(secs => $2)`,
		id, s.ttl.Seconds()).Scan(&sealed, &returnURL, &fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", ErrUnknownState
	}
	if err != nil {
		return "", "", "", fmt.Errorf("google: consume state: %w", err)
	}
	if !fresh {
		return "", "", "", ErrUnknownState
	}
	aead, err := stateAEAD(state)
	if err != nil {
		return "", "", "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", "", "", fmt.Errorf("google: sealed state is truncated")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], id)
	if err != nil {
		return "", "", "", fmt.Errorf("google: open sealed state: %w", err)
	}
	var st sealedState
	if err := json.Unmarshal(plain, &st); err != nil {
		return "", "", "", fmt.Errorf("google: decode sealed state: %w", err)
	}
	return st.Verifier, st.Nonce, returnURL, nil
}

// stateID and the sealing key are two different hashes of the state, so
// the stored id says nothing about the key.
func stateID(state string) []byte {
	h := sha256.Sum256([]byte("hustmusik oauth state id\x00" + state))
	return h[:]
}

func stateAEAD(state string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("hustmusik oauth state key\x00" + state))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("google: state cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("google: state cipher: %w", err)
	}
	return aead, nil
}
