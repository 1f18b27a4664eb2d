// Package zalopay is the client of ZaloPay's order API v2: create an order,
// query its status, verify a callback. Every request is signed with key1 and
// every callback verified with key2 (HMAC-SHA256, lower-case hex); the keys
// come from the configuration and never reach a log or an event.
package zalopay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ZaloPay's general return codes (return_code).
const (
	ReturnSuccess    = 1
	ReturnFail       = 2
	ReturnProcessing = 3
)

// Sub return codes that say the request itself was refused, not the
// order: a wrong MAC or app, malformed parameters, rate limits, outages.
// A query answered with one of them tells nothing about the payment.
var requestErrors = map[int]bool{-401: true, -402: true, -429: true, -500: true, -999: true}

// RequestRefused reports whether sub_return_code says the request was
// refused (MAC, format, limits, outage) rather than the order failing.
func RequestRefused(subReturnCode int) bool { return requestErrors[subReturnCode] }

// Config of a Client.
type Config struct {
	AppID    string // ZALO_APP_ID
	Key1     string // ZALO_KEY1: signs requests
	Key2     string // ZALO_KEY2: verifies callbacks
	Endpoint string // ZALO_ENDPOINT, e.g. https://sb-openapi.zalopay.vn
	// CallbackURL is where ZaloPay posts the payment result.
	CallbackURL string
	// RedirectURL is where the payment page sends the buyer afterwards.
	RedirectURL string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// HTTPClient is the transport (default a client with Timeout).
	HTTPClient *http.Client
}

func (c *Config) setDefaults() {
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout}
	}
}

// Validate reports every missing or malformed setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.AppID == "" {
		errs = append(errs, errors.New("zalopay: AppID is required"))
	}
	if c.Key1 == "" || c.Key2 == "" {
		errs = append(errs, errors.New("zalopay: Key1 and Key2 are required"))
	}
	for name, v := range map[string]string{"Endpoint": c.Endpoint, "CallbackURL": c.CallbackURL} {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("zalopay: %s must be an http(s) URL", name))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("zalopay: Timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Client talks to ZaloPay.
type Client struct {
	cfg    Config
	logger *slog.Logger
}

// New makes a client.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, logger: logger}, nil
}

// Item is one line of an order, in ZaloPay's item JSON.
type Item struct {
	ItemName     string `json:"itemname"`
	ItemPrice    int64  `json:"itemprice"`
	ItemQuantity int64  `json:"itemquantity"`
}

// CreateRequest is an order to open at ZaloPay.
type CreateRequest struct {
	AppTransID  string
	AppUser     string
	AppTime     time.Time
	Amount      int64 // VND
	Items       []Item
	Description string
}

// CreateAnswer is ZaloPay's answer to a create request.
type CreateAnswer struct {
	ReturnCode       int    `json:"return_code"`
	ReturnMessage    string `json:"return_message"`
	SubReturnCode    int    `json:"sub_return_code"`
	SubReturnMessage string `json:"sub_return_message"`
	ZPTransToken     string `json:"zp_trans_token"`
	OrderURL         string `json:"order_url"`
	OrderToken       string `json:"order_token"`
	QRCode           string `json:"qr_code"`
}

// QueryAnswer is ZaloPay's answer to a status query.
type QueryAnswer struct {
	ReturnCode       int    `json:"return_code"`
	ReturnMessage    string `json:"return_message"`
	SubReturnCode    int    `json:"sub_return_code"`
	SubReturnMessage string `json:"sub_return_message"`
	IsProcessing     bool   `json:"is_processing"`
	Amount           int64  `json:"amount"`
	DiscountAmount   int64  `json:"discount_amount"`
	ZPTransID        int64  `json:"zp_trans_id"`
}

// CreateForm is the signed form of a create request: exported so that the
// fake server and tests see exactly what is sent.
func (c *Client) CreateForm(req CreateRequest) (url.Values, error) {
	items := req.Items
	if items == nil {
		items = []Item{}
	}
	item, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("zalopay: encode items: %w", err)
	}
	embed, err := json.Marshal(map[string]string{"redirecturl": c.cfg.RedirectURL})
	if err != nil {
		return nil, fmt.Errorf("zalopay: encode embed_data: %w", err)
	}
	appTime := req.AppTime.UnixMilli()
	f := url.Values{}
	f.Set("app_id", c.cfg.AppID)
	f.Set("app_user", req.AppUser)
	f.Set("app_trans_id", req.AppTransID)
	f.Set("app_time", strconv.FormatInt(appTime, 10))
	f.Set("amount", strconv.FormatInt(req.Amount, 10))
	f.Set("item", string(item))
	f.Set("embed_data", string(embed))
	f.Set("description", req.Description)
	f.Set("bank_code", "")
	f.Set("callback_url", c.cfg.CallbackURL)
	f.Set("mac", MAC(c.cfg.Key1, CreateMACInput(c.cfg.AppID, req.AppTransID, req.AppUser, req.Amount, appTime, string(embed), string(item))))
	return f, nil
}

// Create opens an order. An error means no usable answer came back
// (transport failure, non-2xx status, malformed body); a refusal by ZaloPay
// is an answer with ReturnCode != ReturnSuccess.
func (c *Client) Create(ctx context.Context, req CreateRequest) (CreateAnswer, error) {
	var a CreateAnswer
	form, err := c.CreateForm(req)
	if err != nil {
		return a, err
	}
	return a, c.post(ctx, "/v2/create", form, &a)
}

// Query asks for an order's status.
func (c *Client) Query(ctx context.Context, appTransID string) (QueryAnswer, error) {
	var a QueryAnswer
	f := url.Values{}
	f.Set("app_id", c.cfg.AppID)
	f.Set("app_trans_id", appTransID)
	f.Set("mac", MAC(c.cfg.Key1, QueryMACInput(c.cfg.AppID, appTransID, c.cfg.Key1)))
	return a, c.post(ctx, "/v2/query", f, &a)
}

// ErrUnavailable wraps every failure to get an answer from ZaloPay.
var ErrUnavailable = errors.New("zalopay: gateway unavailable")

func (c *Client) post(ctx context.Context, path string, form url.Values, into any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint+path, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL holds no secret (the MAC is in the body), so the error is safe to log.
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s: read answer: %v", ErrUnavailable, path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s answered HTTP %d", ErrUnavailable, path, res.StatusCode)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%w: %s: malformed answer: %v", ErrUnavailable, path, err)
	}
	return nil
}

// CallbackData is the payload of a payment callback (the "data" JSON string).
type CallbackData struct {
	AppID          int64  `json:"app_id"`
	AppTransID     string `json:"app_trans_id"`
	AppTime        int64  `json:"app_time"`
	AppUser        string `json:"app_user"`
	Amount         int64  `json:"amount"`
	EmbedData      string `json:"embed_data"`
	Item           string `json:"item"`
	ZPTransID      int64  `json:"zp_trans_id"`
	ServerTime     int64  `json:"server_time"`
	Channel        int    `json:"channel"`
	MerchantUserID string `json:"merchant_user_id"`
	UserFeeAmount  int64  `json:"user_fee_amount"`
	DiscountAmount int64  `json:"discount_amount"`
}

// ErrBadMAC: a callback whose MAC does not verify under key2.
var ErrBadMAC = errors.New("zalopay: callback mac not equal")

// ParseCallback verifies mac over data exactly as received and decodes it.
func (c *Client) ParseCallback(data, mac string) (CallbackData, error) {
	var d CallbackData
	if !ValidMAC(c.cfg.Key2, data, mac) {
		return d, ErrBadMAC
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return d, fmt.Errorf("zalopay: callback data: %w", err)
	}
	if d.AppTransID == "" {
		return d, errors.New("zalopay: callback data has no app_trans_id")
	}
	return d, nil
}
