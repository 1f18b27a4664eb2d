// Package cloudinary keeps images on Cloudinary through its signed Upload
// API, because the existing frontend displays only Cloudinary-hosted
// images. It implements images.Store; public ids are
// <users|artists|songs|collections>/i-<id>.
package cloudinary

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hustmusik/backend/infra/images"
)

// Config of the client.
type Config struct {
	// URL is CLOUDINARY_URL: cloudinary://<api key>:<api secret>@<cloud name>.
	URL string
	// APIBaseURL is Cloudinary's API (default https://api.cloudinary.com);
	// tests point it at a fake.
	APIBaseURL string
	HTTPClient *http.Client     // default: a client with a 60 s timeout
	Now        func() time.Time // the clock that stamps signed requests
}

func (c *Config) setDefaults() {
	if c.APIBaseURL == "" {
		c.APIBaseURL = "https://api.cloudinary.com"
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem at once; it never prints the secret.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.APIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("cloudinary: APIBaseURL %q must be an absolute http(s) URL", c.APIBaseURL))
	}
	return errors.Join(errs...)
}

type account struct {
	key, secret, cloud string
}

func parseURL(raw string) (account, error) {
	bad := errors.New("cloudinary: CLOUDINARY_URL must be cloudinary://<api key>:<api secret>@<cloud name>")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "cloudinary" || u.User == nil || u.Host == "" {
		return account{}, bad
	}
	secret, _ := u.User.Password()
	a := account{key: u.User.Username(), secret: secret, cloud: u.Host}
	if a.key == "" || a.secret == "" {
		return account{}, bad
	}
	return a, nil
}

// Client talks to one Cloudinary cloud.
type Client struct {
	cfg Config
	acc account
}

var _ images.Store = (*Client)(nil)

// New makes a client; it does not contact Cloudinary.
func New(cfg Config) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	acc, _ := parseURL(cfg.URL) // checked by Validate
	return &Client{cfg: cfg, acc: acc}, nil
}

// PublicID is where an owner's image lives on Cloudinary.
func PublicID(kind, id string) (string, error) {
	if err := images.CheckOwner(kind, id); err != nil {
		return "", err
	}
	return kind + "/i-" + id, nil
}

// unsigned are the parameters Cloudinary leaves out of the signature.
var unsigned = []string{"file", "cloud_name", "resource_type", "api_key", "signature"}

// Sign is Cloudinary's request signature: the parameters (all but file,
// cloud_name, resource_type and api_key; empty ones are dropped, as the
// SDKs do) sorted by name, joined as "k=v&k=v", the API secret appended,
// hashed with SHA-1, in hex.
func Sign(params map[string]string, secret string) string {
	sum := sha1.Sum([]byte(StringToSign(params) + secret))
	return hex.EncodeToString(sum[:])
}

// StringToSign is the "k=v&..." part of Sign (Cloudinary quotes it in its
// "Invalid Signature" errors).
func StringToSign(params map[string]string) string {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if v != "" && !slices.Contains(unsigned, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = k + "=" + params[k]
	}
	return strings.Join(pairs, "&")
}

// signed adds timestamp, api_key and signature to params.
func (c *Client) signed(params map[string]string) map[string]string {
	params["timestamp"] = strconv.FormatInt(c.cfg.Now().Unix(), 10)
	params["signature"] = Sign(params, c.acc.secret)
	params["api_key"] = c.acc.key
	return params
}

// SaveImage uploads the owner's image to its public id, replacing the
// previous one (overwrite) and purging CDN copies (invalidate); the URL
// returned is Cloudinary's secure_url, which carries the version and so
// changes with every upload.
func (c *Client) SaveImage(ctx context.Context, kind, id string, img images.Image, data []byte) (string, error) {
	publicID, err := PublicID(kind, id)
	if err != nil {
		return "", err
	}
	params := c.signed(map[string]string{"public_id": publicID, "overwrite": "true", "invalidate": "true"})
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, k := range sortedKeys(params) {
		if err := w.WriteField(k, params[k]); err != nil {
			return "", fmt.Errorf("cloudinary: build upload: %w", err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="i-%s.%s"`, id, img.Ext))
	h.Set("Content-Type", img.ContentType)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", fmt.Errorf("cloudinary: build upload: %w", err)
	}
	if _, err := part.Write(data); err != nil {
		return "", fmt.Errorf("cloudinary: build upload: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("cloudinary: build upload: %w", err)
	}
	var out struct {
		SecureURL string `json:"secure_url"`
	}
	if err := c.post(ctx, "upload", w.FormDataContentType(), &body, &out); err != nil {
		return "", fmt.Errorf("cloudinary: upload %s: %w", publicID, err)
	}
	if out.SecureURL == "" {
		return "", fmt.Errorf("cloudinary: upload %s: the answer has no secure_url", publicID)
	}
	return out.SecureURL, nil
}

// DeleteImage destroys the owner's image; "not found" is success.
func (c *Client) DeleteImage(ctx context.Context, kind, id string) error {
	publicID, err := PublicID(kind, id)
	if err != nil {
		return err
	}
	form := url.Values{}
	for k, v := range c.signed(map[string]string{"public_id": publicID, "invalidate": "true"}) {
		form.Set(k, v)
	}
	var out struct {
		Result string `json:"result"`
	}
	if err := c.post(ctx, "destroy", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), &out); err != nil {
		return fmt.Errorf("cloudinary: destroy %s: %w", publicID, err)
	}
	if out.Result != "ok" && out.Result != "not found" {
		return fmt.Errorf("cloudinary: destroy %s: result %q", publicID, out.Result)
	}
	return nil
}

// post calls /v1_1/<cloud>/image/<action> and decodes a 200 into out, or
// Cloudinary's {"error": {"message"}} into the error.
func (c *Client) post(ctx context.Context, action, contentType string, body io.Reader, out any) error {
	endpoint := c.cfg.APIBaseURL + "/v1_1/" + url.PathEscape(c.acc.cloud) + "/image/" + action
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			// The message may quote the string to sign, never the secret.
			return fmt.Errorf("status %d: %s", resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
