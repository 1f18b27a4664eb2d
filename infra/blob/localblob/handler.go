package localblob

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
)

// CORS lists of Handler for direct use (API.md: audio is CORS-readable).
const (
	corsMethods = "GET, HEAD, PUT, OPTIONS"
	corsHeaders = "Content-Type, Range"
	corsExpose  = "Content-Length, Content-Range, Accept-Ranges, Content-Type, Content-Disposition"
)

// Handler serves GET, HEAD and PUT of /blob/<key> for URLs made by
// PresignGet, PresignPut and (images only) URL. Refusals are JSON
// {"error": "..."}: 403 for a bad, tampered or expired signature, a wrong
// method or Content-Type; 404 for a missing object; 413 for an upload over
// MaxUploadBytes. A successful PUT answers 200.
func (s *Store) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

type grant struct {
	contentType string
	disposition string
	expires     time.Time
}

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if method != http.MethodGet && method != http.MethodPut {
		w.Header().Set("Allow", corsMethods)
		s.refuse(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || blob.ValidateKey(key) != nil {
		s.refuse(w, http.StatusNotFound, "Object not found")
		return
	}
	q := r.URL.Query()
	if method == http.MethodGet && strings.HasPrefix(key, blob.ImagePrefix) && !q.Has("sig") {
		s.servePublicImage(w, r, key)
		return
	}
	g, err := s.verify(q, method, key)
	if err != nil {
		s.refuse(w, http.StatusForbidden, err.Error())
		return
	}
	if method == http.MethodGet {
		s.serveFile(w, r, key, g.contentType, g.disposition, "private, max-age="+strconv.FormatInt(int64(g.expires.Sub(s.cfg.Now()).Seconds()), 10))
		return
	}
	s.servePut(w, r, key, g)
}

// verify checks the signature first (in constant time, before anything
// else of the request is looked at), then the method and the expiry.
func (s *Store) verify(q url.Values, method, key string) (grant, error) {
	errBad := domain.Forbidden("Invalid URL signature")
	sig, err := hex.DecodeString(q.Get("sig"))
	if err != nil || len(sig) != 32 {
		return grant{}, errBad
	}
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil {
		return grant{}, errBad
	}
	ct, disp := q.Get("ct"), q.Get("disp")
	if !hmac.Equal(sig, s.sign(method, key, ct, disp, exp)) {
		if q.Get("method") != "" && q.Get("method") != method {
			// The URL is genuine for another method: say so.
			if hmac.Equal(sig, s.sign(q.Get("method"), key, ct, disp, exp)) {
				return grant{}, domain.Forbidden("This URL does not allow " + method)
			}
		}
		return grant{}, errBad
	}
	// The method is in the signed string; the parameter must agree, so a
	// URL says in the clear what it is for and every part of it is checked.
	if q.Get("method") != method {
		return grant{}, errBad
	}
	expires := time.Unix(exp, 0)
	if s.cfg.Now().After(expires) {
		return grant{}, domain.Forbidden("This URL has expired")
	}
	return grant{contentType: ct, disposition: disp, expires: expires}, nil
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, key string, g grant) {
	if got := strings.TrimSpace(r.Header.Get("Content-Type")); !strings.EqualFold(got, g.contentType) {
		s.refuse(w, http.StatusForbidden, "Content-Type must be "+g.contentType)
		return
	}
	if r.ContentLength > s.cfg.MaxUploadBytes {
		s.refuse(w, http.StatusRequestEntityTooLarge, tooLarge(s.cfg.MaxUploadBytes))
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	if _, err := s.write(r.Context(), key, body, -1); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			s.refuse(w, http.StatusRequestEntityTooLarge, tooLarge(s.cfg.MaxUploadBytes))
		case r.Context().Err() != nil:
			// The client went away mid-upload; nobody reads an answer.
		default:
			s.logger.Error("blob upload failed", "key", key, "err", err)
			s.refuse(w, http.StatusInternalServerError, "Internal server error")
		}
		return
	}
	w.WriteHeader(http.StatusOK)
}

func tooLarge(limit int64) string {
	return fmt.Sprintf("The file must be at most %d MB", limit>>20)
}

func (s *Store) servePublicImage(w http.ResponseWriter, r *http.Request, key string) {
	ct, ok := imageTypes[strings.ToLower(path.Ext(key))]
	if !ok {
		s.refuse(w, http.StatusForbidden, "Invalid URL signature")
		return
	}
	s.serveFile(w, r, key, ct, "inline", "public, max-age=3600")
}

// serveFile answers the object with Range and conditional request support
// (http.ServeContent), as contentType whatever the bytes look like.
func (s *Store) serveFile(w http.ResponseWriter, r *http.Request, key, contentType, disposition, cacheControl string) {
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		s.logger.Error("blob directory unreadable", "dir", s.cfg.Dir, "err", err)
		s.refuse(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	defer root.Close()
	f, err := root.Open(key)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.logger.Error("blob open failed", "key", key, "err", err)
		}
		s.refuse(w, http.StatusNotFound, "Object not found")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		s.refuse(w, http.StatusNotFound, "Object not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if disposition != "" {
		h.Set("Content-Disposition", disposition)
	}
	h.Set("Cache-Control", cacheControl)
	// The bytes are whatever a client uploaded: never let a browser run them.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func (s *Store) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || !(s.anyOrigin || s.origins[strings.ToLower(origin)]) {
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", corsExpose)
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", "600")
	}
}

// refuse answers {"error": msg}. A refused PUT closes the connection so
// the server does not read the body it refused to keep the connection.
func (s *Store) refuse(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "close")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
