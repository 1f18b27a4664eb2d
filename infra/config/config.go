// Package config reads the service's configuration from the environment, in
// one place, with defaults and validation; String masks every secret.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the binary. The variable names are the runtime
// contract in ARCHITECTURE.md.
type Config struct {
	Addr             string   // HUSTMUSIK_ADDR
	DataDir          string   // HUSTMUSIK_DATA_DIR
	DatabaseURL      string   // DATABASE_URL: external PostgreSQL instead of the private cluster
	EventStoreURL    string   // EVENTSTORE_URL
	ElasticsearchURL string   // ELASTICSEARCH_URL
	S3Endpoint       string   // S3_ENDPOINT
	S3Region         string   // S3_REGION
	S3Bucket         string   // S3_BUCKET
	AWSAccessKeyID   string   // AWS_ACCESS_KEY_ID
	AWSSecretKey     string   // AWS_SECRET_ACCESS_KEY
	JWTSecret        string   // JWT_SECRET: generated and kept in the data dir when unset
	PublicURL        string   // PUBLIC_URL
	FrontendOrigins  []string // FRONTEND_URL, comma-separated; the first is where OAuth redirects
	AdminEmails      []string // ADMIN_EMAILS
	GoogleClientID   string   // GOOGLE_CLIENT_ID
	GoogleSecret     string   // GOOGLE_CLIENT_SECRET
	GoogleIssuer     string   // GOOGLE_ISSUER
	ZaloAppID        string   // ZALO_APP_ID
	ZaloKey1         string   // ZALO_KEY1
	ZaloKey2         string   // ZALO_KEY2
	ZaloEndpoint     string   // ZALO_ENDPOINT
	CloudinaryURL    string   // CLOUDINARY_URL
	LogLevel         string   // HUSTMUSIK_LOG_LEVEL: debug, info, warn, error
	AccessTokenTTL   time.Duration
	ConsistencyWait  time.Duration // HUSTMUSIK_CONSISTENCY_WAIT (default 2s)
	// AuthRatePerMinute limits /v1/auth requests per client IP
	// (HUSTMUSIK_AUTH_RATE_PER_MINUTE, default 60).
	AuthRatePerMinute int
	// NoAnswerCache (HUSTMUSIK_ANSWER_CACHE=off) turns off the rendered
	// answers kept by the by-id reads and search (readapi's answerCache):
	// every read queries. For measuring what a miss costs, or for ruling
	// the caches out when chasing a stale answer.
	NoAnswerCache bool
	// PprofAddr, when set (HUSTMUSIK_PPROF_ADDR, e.g. 127.0.0.1:6060),
	// serves net/http/pprof there for profiling under load. Loopback only:
	// profiles expose code paths and memory contents.
	PprofAddr string
}

// FromEnv reads the configuration from the environment (lookup is os.LookupEnv in production).
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	c := Config{
		Addr:             get("HUSTMUSIK_ADDR"),
		DataDir:          get("HUSTMUSIK_DATA_DIR"),
		DatabaseURL:      get("DATABASE_URL"),
		EventStoreURL:    get("EVENTSTORE_URL"),
		ElasticsearchURL: get("ELASTICSEARCH_URL"),
		S3Endpoint:       get("S3_ENDPOINT"),
		S3Region:         get("S3_REGION"),
		S3Bucket:         get("S3_BUCKET"),
		AWSAccessKeyID:   get("AWS_ACCESS_KEY_ID"),
		AWSSecretKey:     get("AWS_SECRET_ACCESS_KEY"),
		JWTSecret:        get("JWT_SECRET"),
		PublicURL:        get("PUBLIC_URL"),
		FrontendOrigins:  splitList(get("FRONTEND_URL")),
		AdminEmails:      splitList(get("ADMIN_EMAILS")),
		GoogleClientID:   get("GOOGLE_CLIENT_ID"),
		GoogleSecret:     get("GOOGLE_CLIENT_SECRET"),
		GoogleIssuer:     get("GOOGLE_ISSUER"),
		ZaloAppID:        get("ZALO_APP_ID"),
		ZaloKey1:         get("ZALO_KEY1"),
		ZaloKey2:         get("ZALO_KEY2"),
		ZaloEndpoint:     get("ZALO_ENDPOINT"),
		CloudinaryURL:    get("CLOUDINARY_URL"),
		LogLevel:         get("HUSTMUSIK_LOG_LEVEL"),
		PprofAddr:        get("HUSTMUSIK_PPROF_ADDR"),
	}
	var errs []error
	if v := get("HUSTMUSIK_CONSISTENCY_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUSTMUSIK_CONSISTENCY_WAIT: %w", err))
		}
		c.ConsistencyWait = d
	}
	if v := get("HUSTMUSIK_ACCESS_TOKEN_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUSTMUSIK_ACCESS_TOKEN_TTL: %w", err))
		}
		c.AccessTokenTTL = d
	}
	switch v := strings.ToLower(get("HUSTMUSIK_ANSWER_CACHE")); v {
	case "", "on":
	case "off":
		c.NoAnswerCache = true
	default:
		errs = append(errs, fmt.Errorf("HUSTMUSIK_ANSWER_CACHE: %q must be on or off", v))
	}
	if v := get("HUSTMUSIK_AUTH_RATE_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HUSTMUSIK_AUTH_RATE_PER_MINUTE: %q is not a number", v))
		}
		c.AuthRatePerMinute = n
	}
	c.setDefaults()
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":7554"
	}
	if c.DataDir == "" {
		c.DataDir = "./.hustmusik"
	}
	if c.PublicURL == "" {
		// Follow the listen address, so presigned local URLs point at this
		// process even when only HUSTMUSIK_ADDR was set.
		c.PublicURL = "http://localhost:7554"
		if host, port, err := net.SplitHostPort(c.Addr); err == nil && port != "" {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "localhost"
			}
			c.PublicURL = "http://" + net.JoinHostPort(host, port)
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if len(c.FrontendOrigins) == 0 {
		c.FrontendOrigins = []string{"http://localhost:3000"}
	}
	if c.GoogleIssuer == "" {
		c.GoogleIssuer = "https://accounts.google.com"
	}
	if c.ZaloEndpoint == "" {
		c.ZaloEndpoint = "https://sb-openapi.zalopay.vn"
	}
	if c.S3Region == "" {
		c.S3Region = "us-east-1"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = time.Hour
	}
	if c.ConsistencyWait == 0 {
		c.ConsistencyWait = 2 * time.Second
	}
	if c.AuthRatePerMinute == 0 {
		c.AuthRatePerMinute = 60
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	checkURL := func(name, v string, schemes ...string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute URL", name, mask(v)))
			return
		}
		for _, s := range schemes {
			if u.Scheme == s {
				return
			}
		}
		errs = append(errs, fmt.Errorf("%s: scheme must be one of %s", name, strings.Join(schemes, ", ")))
	}
	checkURL("PUBLIC_URL", c.PublicURL, "http", "https")
	for _, o := range c.FrontendOrigins {
		checkURL("FRONTEND_URL", o, "http", "https")
	}
	checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
	checkURL("EVENTSTORE_URL", c.EventStoreURL, "esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover")
	checkURL("ELASTICSEARCH_URL", c.ElasticsearchURL, "http", "https")
	checkURL("S3_ENDPOINT", c.S3Endpoint, "http", "https")
	checkURL("GOOGLE_ISSUER", c.GoogleIssuer, "http", "https")
	checkURL("ZALO_ENDPOINT", c.ZaloEndpoint, "http", "https")
	checkURL("CLOUDINARY_URL", c.CloudinaryURL, "cloudinary")
	if c.S3Endpoint != "" && (c.S3Bucket == "" || c.AWSAccessKeyID == "" || c.AWSSecretKey == "") {
		errs = append(errs, errors.New("S3_ENDPOINT needs S3_BUCKET, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 characters"))
	}
	if c.GoogleClientID != "" && c.GoogleSecret == "" {
		errs = append(errs, errors.New("GOOGLE_CLIENT_ID needs GOOGLE_CLIENT_SECRET"))
	}
	if (c.ZaloAppID != "") != (c.ZaloKey1 != "" && c.ZaloKey2 != "") {
		errs = append(errs, errors.New("ZaloPay needs all of ZALO_APP_ID, ZALO_KEY1 and ZALO_KEY2"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("HUSTMUSIK_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > 24*time.Hour {
		errs = append(errs, errors.New("HUSTMUSIK_ACCESS_TOKEN_TTL must be between 1m and 24h"))
	}
	if c.ConsistencyWait < 0 || c.ConsistencyWait > time.Minute {
		errs = append(errs, errors.New("HUSTMUSIK_CONSISTENCY_WAIT must be between 0 and 1m"))
	}
	if c.AuthRatePerMinute < 1 {
		errs = append(errs, errors.New("HUSTMUSIK_AUTH_RATE_PER_MINUTE must be at least 1"))
	}
	if c.PprofAddr != "" && !loopbackAddr(c.PprofAddr) {
		errs = append(errs, fmt.Errorf("HUSTMUSIK_PPROF_ADDR: %q must be a loopback host:port (127.0.0.1, ::1 or localhost)", c.PprofAddr))
	}
	return errors.Join(errs...)
}

// LoadJWTSecret returns JWT_SECRET, or the secret kept in the data dir,
// generating it on first use (0600), so tokens survive restarts.
func (c Config) LoadJWTSecret() ([]byte, error) {
	if c.JWTSecret != "" {
		return []byte(c.JWTSecret), nil
	}
	path := filepath.Join(c.DataDir, "jwt-secret")
	if raw, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(raw))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s is too short: delete it to generate a new one", path)
		}
		return []byte(s), nil
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	// O_EXCL: when two processes start at once, one wins and the other reads it.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.LoadJWTSecret()
	}
	if err != nil {
		return nil, fmt.Errorf("keep JWT secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("keep JWT secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("keep JWT secret: %w", err)
	}
	return []byte(secret), nil
}

// String prints the configuration with every secret masked.
func (c Config) String() string {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	row("HUSTMUSIK_ADDR", c.Addr)
	row("HUSTMUSIK_DATA_DIR", c.DataDir)
	row("DATABASE_URL", mask(c.DatabaseURL))
	row("EVENTSTORE_URL", mask(c.EventStoreURL))
	row("ELASTICSEARCH_URL", mask(c.ElasticsearchURL))
	row("S3_ENDPOINT", c.S3Endpoint)
	row("S3_REGION", c.S3Region)
	row("S3_BUCKET", c.S3Bucket)
	row("AWS_ACCESS_KEY_ID", secret(c.AWSAccessKeyID))
	row("AWS_SECRET_ACCESS_KEY", secret(c.AWSSecretKey))
	row("JWT_SECRET", secret(c.JWTSecret))
	row("PUBLIC_URL", c.PublicURL)
	row("FRONTEND_URL", strings.Join(c.FrontendOrigins, ","))
	row("ADMIN_EMAILS", fmt.Sprintf("(%d addresses)", len(c.AdminEmails)))
	row("GOOGLE_CLIENT_ID", c.GoogleClientID)
	row("GOOGLE_CLIENT_SECRET", secret(c.GoogleSecret))
	row("GOOGLE_ISSUER", c.GoogleIssuer)
	row("ZALO_APP_ID", c.ZaloAppID)
	row("ZALO_KEY1", secret(c.ZaloKey1))
	row("ZALO_KEY2", secret(c.ZaloKey2))
	row("ZALO_ENDPOINT", c.ZaloEndpoint)
	row("CLOUDINARY_URL", mask(c.CloudinaryURL))
	row("HUSTMUSIK_PPROF_ADDR", c.PprofAddr)
	return b.String()
}

// loopbackAddr: host:port whose host is a loopback address or localhost.
func loopbackAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func secret(v string) string {
	if v == "" {
		return ""
	}
	return "********"
}

// mask hides the password of a URL's user info.
func mask(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.TrimRight(p, "/"))
		}
	}
	return out
}
