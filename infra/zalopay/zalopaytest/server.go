// Package zalopaytest is a fake ZaloPay order API v2 for tests: an HTTP
// server that checks every MAC and parameter the way ZaloPay does, keeps the
// orders it was given, can be scripted (pending, paid, failed, down, slow),
// and sends signed payment callbacks like ZaloPay's servers.
package zalopaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/hustmusik/backend/infra/zalopay"
)

// Status of a fake order.
type Status int

const (
	Pending Status = iota
	Paid
	Failed
	Expired
)

// Order is what the fake received for one app_trans_id, and its state.
type Order struct {
	AppTransID  string
	AppUser     string
	AppTime     int64
	Amount      int64
	Item        string
	EmbedData   string
	Description string
	CallbackURL string
	Status      Status
	ZPTransID   int64
}

// Server is the fake.
type Server struct {
	AppID, Key1, Key2 string

	srv *httptest.Server

	mu      sync.Mutex
	orders  map[string]*Order
	down    bool
	delay   time.Duration
	nextZP  int64
	creates int
	queries int
	badMACs int
}

// New starts a fake ZaloPay for an app with the given keys.
func New(appID, key1, key2 string) *Server {
	s := &Server{AppID: appID, Key1: key1, Key2: key2, orders: map[string]*Order{}, nextZP: 250101000000001}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/create", s.create)
	mux.HandleFunc("POST /v2/query", s.query)
	s.srv = httptest.NewServer(s.slowOrDown(mux))
	return s
}

// URL is the endpoint to configure (ZALO_ENDPOINT).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetDown makes every request answer HTTP 500 (true) or work again.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay makes every answer wait d first.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetStatus scripts what a query says about an order; Paid gives it a
// zp_trans_id. It reports whether the order exists.
func (s *Server) SetStatus(appTransID string, st Status) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[appTransID]
	if !ok {
		return false
	}
	o.Status = st
	if st == Paid && o.ZPTransID == 0 {
		o.ZPTransID = s.nextZP
		s.nextZP++
	}
	return true
}

// Order is a copy of what the fake knows about an order.
func (s *Server) Order(appTransID string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[appTransID]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Counts says how many create and query requests were accepted, and how
// many were refused for a wrong MAC.
func (s *Server) Counts() (creates, queries, badMACs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates, s.queries, s.badMACs
}

func (s *Server) slowOrDown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down, delay := s.down, s.delay
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if down {
			http.Error(w, "upstream unavailable", http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, sub int, msg string) {
	answer(w, map[string]any{"return_code": zalopay.ReturnFail, "return_message": "Giao dịch thất bại",
		"sub_return_code": sub, "sub_return_message": msg})
}

// create checks a create request as ZaloPay does: every required field,
// app_id, amount, the app_trans_id's Vietnam date, app_time within 15
// minutes, JSON item and embed_data, a fresh app_trans_id, and the MAC.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fail(w, -401, "ILLEGAL_DATA_REQUEST")
		return
	}
	f := r.PostForm
	for _, k := range []string{"app_id", "app_user", "app_trans_id", "app_time", "amount", "item", "embed_data", "description", "mac"} {
		if f.Get(k) == "" {
			fail(w, -401, "ILLEGAL_DATA_REQUEST: missing "+k)
			return
		}
	}
	if f.Get("app_id") != s.AppID {
		s.countBadMAC()
		fail(w, -402, "ILLEGAL_APP/SIGNATURE_REQUEST")
		return
	}
	amount, err1 := strconv.ParseInt(f.Get("amount"), 10, 64)
	appTime, err2 := strconv.ParseInt(f.Get("app_time"), 10, 64)
	id := f.Get("app_trans_id")
	var items, embed any
	switch {
	case err1 != nil || amount <= 0, err2 != nil, len(id) > zalopay.MaxAppTransID,
		json.Unmarshal([]byte(f.Get("item")), &items) != nil, json.Unmarshal([]byte(f.Get("embed_data")), &embed) != nil:
		fail(w, -401, "ILLEGAL_DATA_REQUEST")
		return
	}
	if _, isList := items.([]any); !isList {
		fail(w, -401, "ILLEGAL_DATA_REQUEST: item must be a JSON array")
		return
	}
	mac := zalopay.MAC(s.Key1, zalopay.CreateMACInput(f.Get("app_id"), id, f.Get("app_user"), amount, appTime, f.Get("embed_data"), f.Get("item")))
	if mac != f.Get("mac") {
		s.countBadMAC()
		fail(w, -402, "ILLEGAL_APP/SIGNATURE_REQUEST")
		return
	}
	at := time.UnixMilli(appTime)
	if d := time.Since(at); d > 15*time.Minute || d < -15*time.Minute {
		fail(w, -401, "ILLEGAL_DATA_REQUEST: app_time is more than 15 minutes off")
		return
	}
	if len(id) < 7 || id[:6] != zalopay.VietnamDate(at) || id[6] != '_' {
		fail(w, -401, "ILLEGAL_DATA_REQUEST: app_trans_id must start with yyMMdd_ in Vietnam time")
		return
	}
	s.mu.Lock()
	if _, dup := s.orders[id]; dup {
		s.mu.Unlock()
		fail(w, -68, "DUPLICATE_APPS_TRANS_ID")
		return
	}
	s.orders[id] = &Order{AppTransID: id, AppUser: f.Get("app_user"), AppTime: appTime, Amount: amount,
		Item: f.Get("item"), EmbedData: f.Get("embed_data"), Description: f.Get("description"),
		CallbackURL: f.Get("callback_url")}
	s.creates++
	s.mu.Unlock()
	token := "ZP" + strconv.FormatInt(appTime, 36) + id[7:min(len(id), 17)]
	answer(w, zalopay.CreateAnswer{ReturnCode: zalopay.ReturnSuccess, ReturnMessage: "Giao dịch thành công",
		SubReturnCode: 1, SubReturnMessage: "Giao dịch thành công", ZPTransToken: token,
		OrderURL: "https://qcgateway.zalopay.vn/openinapp?order=" + token, OrderToken: token,
		QRCode: "00020101021226520010vn.zalopay" + token})
}

func (s *Server) countBadMAC() { s.mu.Lock(); s.badMACs++; s.mu.Unlock() }

// query answers as ZaloPay's /v2/query: 1 paid, 2 failed (or expired:
// sub_return_code -54), 3 not paid yet; a wrong MAC is 2/-402.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fail(w, -401, "ILLEGAL_DATA_REQUEST")
		return
	}
	f := r.PostForm
	id := f.Get("app_trans_id")
	if f.Get("app_id") != s.AppID || id == "" ||
		f.Get("mac") != zalopay.MAC(s.Key1, zalopay.QueryMACInput(f.Get("app_id"), id, s.Key1)) {
		s.countBadMAC()
		fail(w, -402, "ILLEGAL_APP/SIGNATURE_REQUEST")
		return
	}
	s.mu.Lock()
	s.queries++
	o, ok := s.orders[id]
	var cp Order
	if ok {
		cp = *o
	}
	s.mu.Unlock()
	if !ok {
		fail(w, -101, "ORDER_NOT_EXIST")
		return
	}
	a := zalopay.QueryAnswer{Amount: cp.Amount}
	switch cp.Status {
	case Paid:
		a.ReturnCode, a.ReturnMessage, a.SubReturnCode, a.SubReturnMessage = 1, "Giao dịch thành công", 1, "Giao dịch thành công"
		a.ZPTransID = cp.ZPTransID
	case Failed:
		a.ReturnCode, a.ReturnMessage, a.SubReturnCode, a.SubReturnMessage = 2, "Giao dịch thất bại", -63, "USER_CANCELLED"
	case Expired:
		a.ReturnCode, a.ReturnMessage, a.SubReturnCode, a.SubReturnMessage = 2, "Giao dịch thất bại", -54, "TIME_INVALID"
	default:
		a.ReturnCode, a.ReturnMessage, a.SubReturnCode, a.SubReturnMessage = 3, "Giao dịch chưa thực hiện hoặc đang xử lý", 3, "PROCESSING"
	}
	answer(w, a)
}

// Callback is a payment callback as ZaloPay posts it.
type Callback struct {
	Data string `json:"data"`
	MAC  string `json:"mac"`
	Type int    `json:"type"`
}

// PaidCallback marks the order paid and returns the callback ZaloPay would
// send for it, signed with key2.
func (s *Server) PaidCallback(appTransID string) (Callback, error) {
	if !s.SetStatus(appTransID, Paid) {
		return Callback{}, fmt.Errorf("zalopaytest: no order %s", appTransID)
	}
	o, _ := s.Order(appTransID)
	appID, _ := strconv.ParseInt(s.AppID, 10, 64)
	data, err := json.Marshal(zalopay.CallbackData{AppID: appID, AppTransID: o.AppTransID, AppTime: o.AppTime,
		AppUser: o.AppUser, Amount: o.Amount, EmbedData: o.EmbedData, Item: o.Item, ZPTransID: o.ZPTransID,
		ServerTime: time.Now().UnixMilli(), Channel: 38, MerchantUserID: "7ZMSl3nEg5sOUJzOLSoUFT8xKNQ"})
	if err != nil {
		return Callback{}, err
	}
	return Callback{Data: string(data), MAC: zalopay.MAC(s.Key2, string(data)), Type: 1}, nil
}

// Send posts cb to callbackURL as ZaloPay does (JSON) and returns the
// service's HTTP status and decoded answer. The URL is the caller's: a test
// server's address is known only after the service's PUBLIC_URL was set
// (the order's recorded CallbackURL is what the service asked for).
func Send(ctx context.Context, callbackURL string, cb Callback) (int, map[string]any, error) {
	body, _ := json.Marshal(cb)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return res.StatusCode, nil, fmt.Errorf("zalopaytest: callback answer is not JSON: %s", raw)
	}
	return res.StatusCode, m, nil
}
