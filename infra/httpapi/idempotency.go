package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/domain"
)

const (
	// IdempotencyTTL is how long a stored answer is replayed.
	IdempotencyTTL = 24 * time.Hour
	// abandonedAfter: an in-progress row this old belongs to a process that
	// died mid-request (no handler runs that long); a retry may take it over
	// rather than getting 409 for a day.
	abandonedAfter = 5 * time.Minute
	// maxStoredAnswer bounds a stored answer; a bigger one is not stored
	// (a retry runs again). Answers to writes are small JSON.
	maxStoredAnswer = 1 << 20
)

// replayedHeaders are the answer headers a replay repeats.
var replayedHeaders = []string{"Content-Type", "X-Position", "Location"}

// storeTimeout bounds each idempotency query; it runs even when the client
// has gone, so that the answer is stored for its retry.
const storeTimeout = 5 * time.Second

// idempotency makes a POST with an Idempotency-Key run at most once per key
// and caller: the first answer is stored and a retry of the same request
// gets it back byte for byte (with Idempotent-Replayed: true) without the
// handler running; the same key on a different request is 422; a retry
// while the first is still running is 409. 5xx answers are not stored, so a
// retry after a server error runs again.
func (s *Server) idempotency(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if c.Request.Method != http.MethodPost || key == "" || s.cfg.Pool == nil || s.idempotencyExcluded(c.Request.URL.Path) {
		c.Next()
		return
	}
	if !saneIdempotencyKey(key) {
		Error(c, domain.Invalid("Invalid Idempotency-Key: 1 to 255 printable ASCII characters"))
		return
	}
	var body []byte
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		b, err := readAll(c.Request.Body)
		if err != nil {
			Error(c, err)
			return
		}
		body = b
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
	}
	req := idemRequest{
		scope:  idempotencyScope(c),
		key:    key,
		method: c.Request.Method,
		path:   c.Request.URL.Path,
		hash:   requestHash(c.GetHeader("Content-Type"), body),
	}
	if q := c.Request.URL.RawQuery; q != "" {
		req.path += "?" + q
	}
	ctx := context.WithoutCancel(c.Request.Context())

	claimed, prev, err := s.claimKey(ctx, req)
	if err != nil {
		Error(c, fmt.Errorf("httpapi: idempotency key: %w", err))
		return
	}
	if !claimed {
		switch {
		case prev.method != req.method || prev.path != req.path || !bytes.Equal(prev.hash, req.hash):
			abortJSON(c, http.StatusUnprocessableEntity, "Idempotency-Key reused with a different request")
		case !prev.completed:
			abortJSON(c, http.StatusConflict, "A request with this Idempotency-Key is still in progress")
		default:
			replay(c, prev)
		}
		return
	}

	cw := &captureWriter{ResponseWriter: c.Writer}
	c.Writer = cw
	finished := false
	defer func() {
		if !finished { // the handler panicked: let a retry run again
			s.forgetKey(ctx, c, req)
		}
	}()
	c.Next()
	finished = true

	status := cw.Status()
	if status >= 500 || status == 499 || cw.overflow {
		s.forgetKey(ctx, c, req)
		return
	}
	headers := map[string]string{}
	for _, h := range replayedHeaders {
		if v := cw.Header().Get(h); v != "" {
			headers[h] = v
		}
	}
	if err := s.storeAnswer(ctx, req, status, headers, cw.buf.Bytes()); err != nil {
		// The answer went out; only a retry's replay is lost (it will get
		// 409 until the row is abandoned), so log and carry on.
		Logger(c).Error("storing an idempotent answer failed", "err", err)
	}
}

func (s *Server) idempotencyExcluded(path string) bool {
	for _, p := range s.cfg.IdempotencyExclude {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func saneIdempotencyKey(k string) bool {
	if len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7E {
			return false
		}
	}
	return true
}

// idempotencyScope keeps one caller's keys apart from another's.
func idempotencyScope(c *gin.Context) string {
	if p := Principal(c); !p.Anonymous() {
		return p.UserID
	}
	return "anon:" + c.ClientIP()
}

// requestHash identifies a request body. A multipart boundary is random per
// send, so it is blanked out: a client that rebuilds the same form for a
// retry sends the same request.
func requestHash(contentType string, body []byte) []byte {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	if b := params["boundary"]; mediaType == "multipart/form-data" && b != "" {
		body = bytes.ReplaceAll(body, []byte(b), []byte("BOUNDARY"))
	}
	h := sha256.New()
	h.Write([]byte(mediaType))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

type idemRequest struct {
	scope, key, method, path string
	hash                     []byte
}

type idemRow struct {
	method, path string
	hash         []byte
	completed    bool
	status       int
	headers      map[string]string
	body         []byte
}

// claimKey inserts an in-progress row for req. When a row exists already it
// returns false and that row.
func (s *Server) claimKey(ctx context.Context, req idemRequest) (bool, idemRow, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	for range 3 {
		if _, err := s.cfg.Pool.Exec(ctx, `
			DELETE FROM idempotency_keys
			WHERE scope = $1 AND key = $2
			  AND (created_at < now() - $3::interval OR (NOT completed AND created_at < now() - $4::interval))`,
			req.scope, req.key, IdempotencyTTL, abandonedAfter); err != nil {
			return false, idemRow{}, fmt.Errorf("expire: %w", err)
		}
		tag, err := s.cfg.Pool.Exec(ctx, `
			INSERT INTO idempotency_keys (scope, key, method, path, request_hash)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (scope, key) DO NOTHING`,
			req.scope, req.key, req.method, req.path, req.hash)
		if err != nil {
			return false, idemRow{}, fmt.Errorf("claim: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return true, idemRow{}, nil
		}
		var r idemRow
		var status *int32
		var headers []byte
		err = s.cfg.Pool.QueryRow(ctx, `
			SELECT method, path, request_hash, completed, status, headers, body
			FROM idempotency_keys WHERE scope = $1 AND key = $2`,
			req.scope, req.key).Scan(&r.method, &r.path, &r.hash, &r.completed, &status, &headers, &r.body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // the first request failed and let go of the key just now: claim again
		}
		if err != nil {
			return false, idemRow{}, fmt.Errorf("read: %w", err)
		}
		if status != nil {
			r.status = int(*status)
		}
		if len(headers) > 0 {
			if err := json.Unmarshal(headers, &r.headers); err != nil {
				return false, idemRow{}, fmt.Errorf("stored headers: %w", err)
			}
		}
		return false, r, nil
	}
	return false, idemRow{}, errors.New("claim: the key changed hands three times")
}

func (s *Server) storeAnswer(ctx context.Context, req idemRequest, status int, headers map[string]string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	h, err := json.Marshal(headers)
	if err != nil {
		return fmt.Errorf("httpapi: idempotency headers: %w", err)
	}
	if body == nil {
		body = []byte{}
	}
	if _, err := s.cfg.Pool.Exec(ctx, `
		UPDATE idempotency_keys SET completed = true, status = $3, headers = $4, body = $5
		WHERE scope = $1 AND key = $2`,
		req.scope, req.key, status, h, body); err != nil {
		return fmt.Errorf("httpapi: store idempotent answer: %w", err)
	}
	return nil
}

func (s *Server) forgetKey(ctx context.Context, c *gin.Context, req idemRequest) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := s.cfg.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND NOT completed`,
		req.scope, req.key); err != nil {
		// The row stays in progress until abandonedAfter; retries get 409 till then.
		Logger(c).Error("releasing an idempotency key failed", "err", err)
	}
}

// PurgeIdempotencyKeys deletes stored answers older than IdempotencyTTL;
// Run calls it every few minutes.
func (s *Server) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	if s.cfg.Pool == nil {
		return 0, nil
	}
	tag, err := s.cfg.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval`, IdempotencyTTL)
	if err != nil {
		return 0, fmt.Errorf("httpapi: purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Server) purgeIdempotencyLoop(ctx context.Context) {
	if s.cfg.Pool == nil {
		return
	}
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := s.PurgeIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("purging idempotency keys failed", "err", err)
		} else if n > 0 {
			s.logger.Info("purged expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func replay(c *gin.Context, r idemRow) {
	h := c.Writer.Header()
	for k, v := range r.headers {
		h.Set(k, v)
	}
	h.Set("Idempotent-Replayed", "true")
	c.Writer.WriteHeader(r.status)
	c.Writer.WriteHeaderNow()
	if len(r.body) > 0 {
		c.Writer.Write(r.body)
	}
	c.Abort()
}

func abortJSON(c *gin.Context, status int, msg string) {
	c.Set(keyErrorMessage, msg)
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

// captureWriter keeps a copy of the answer body while writing it through.
type captureWriter struct {
	gin.ResponseWriter
	buf      bytes.Buffer
	overflow bool
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.keep(b)
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) WriteString(s string) (int, error) {
	w.keep([]byte(s))
	return w.ResponseWriter.WriteString(s)
}

func (w *captureWriter) keep(b []byte) {
	if w.overflow {
		return
	}
	if w.buf.Len()+len(b) > maxStoredAnswer {
		w.overflow = true
		w.buf.Reset()
		return
	}
	w.buf.Write(b)
}
