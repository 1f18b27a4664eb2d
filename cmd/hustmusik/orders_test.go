package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/infra/zalopay"
	"github.com/hustmusik/backend/infra/zalopay/zalopaytest"
	"github.com/hustmusik/backend/projections"
)

const (
	zaloAppID = "2553"
	zaloKey1  = "test-key-one-PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL"
	zaloKey2  = "test-key-two-kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz"
	premium   = "Hust Musik Premium"
)

// orderWorld is the whole service wired to a fake ZaloPay.
type orderWorld struct {
	api   *testAPI
	fake  *zalopaytest.Server
	admin account
}

func newOrderWorld(t *testing.T, extra map[string]string) *orderWorld {
	t.Helper()
	fake := zalopaytest.New(zaloAppID, zaloKey1, zaloKey2)
	t.Cleanup(fake.Close)
	env := map[string]string{"ZALO_APP_ID": zaloAppID, "ZALO_KEY1": zaloKey1, "ZALO_KEY2": zaloKey2,
		"ZALO_ENDPOINT": fake.URL(), "ADMIN_EMAILS": "admin@hust.vn", "HUSTMUSIK_AUTH_RATE_PER_MINUTE": "100000"}
	for k, v := range extra {
		env[k] = v
	}
	api := newTestAPI(t, env)
	return &orderWorld{api: api, fake: fake, admin: api.signUp("admin@hust.vn", "Quản trị")}
}

func items(name string, price, qty int) map[string]any {
	return map[string]any{"items": []map[string]any{{"itemname": name, "itemprice": price, "itemquantity": qty}}}
}

// checkout buys and returns the answer and its app_trans_id.
func (w *orderWorld) checkout(token string, body any) (map[string]any, string) {
	w.api.t.Helper()
	m := w.api.expect(w.api.do("POST", "/v1/order/checkout", token, body), 200).json(w.api.t)
	id, _ := m["app_trans_id"].(string)
	return m, id
}

// callback posts a callback to the service as ZaloPay would.
func (w *orderWorld) callback(cb zalopaytest.Callback) map[string]any {
	w.api.t.Helper()
	status, m, err := zalopaytest.Send(context.Background(), w.api.url+"/v1/order/checkout/callback", cb)
	if err != nil || status != 200 {
		w.api.t.Fatalf("callback: %d %v", status, err)
	}
	return m
}

type trailEntry struct {
	Type, Actor, Source string
	Time                time.Time
	Data                map[string]any
}

func (w *orderWorld) trail(token, id string) []trailEntry {
	w.api.t.Helper()
	r := w.api.expect(w.api.do("GET", "/v1/order/"+id+"/events", token, nil), 200)
	var body struct {
		Count int          `json:"count"`
		Data  []trailEntry `json:"data"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Count != len(body.Data) {
		w.api.t.Fatalf("trail answer: %v %s", err, r.body)
	}
	return body.Data
}

// story is a trail as "Type@source" steps.
func story(trail []trailEntry) string {
	steps := make([]string, len(trail))
	for i, e := range trail {
		steps[i] = e.Type + "@" + e.Source
	}
	return strings.Join(steps, " > ")
}

func (w *orderWorld) expectStory(token, id, want string) []trailEntry {
	w.api.t.Helper()
	tr := w.trail(token, id)
	if got := story(tr); got != want {
		w.api.t.Fatalf("trail of %s:\n got  %s\n want %s", id, got, want)
	}
	for i := 1; i < len(tr); i++ {
		if tr[i].Time.Before(tr[i-1].Time) {
			w.api.t.Fatalf("trail not oldest first: %v", tr)
		}
	}
	return tr
}

// waitStory polls the trail until it reads want (the reconciler works in
// the background).
func (w *orderWorld) waitStory(token, id, want string) []trailEntry {
	w.api.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tr := w.trail(token, id)
		if story(tr) == want {
			return tr
		}
		if time.Now().After(deadline) {
			w.api.t.Fatalf("trail of %s:\n got  %s\n want %s", id, story(tr), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *orderWorld) premiumUntil(token string) *time.Time {
	w.api.t.Helper()
	data := w.api.expect(w.api.do("GET", "/v1/user/me", token, nil), 200).json(w.api.t)["data"].(map[string]any)
	v, present := data["premium_until"]
	if !present {
		w.api.t.Fatalf("no premium_until in %v", data)
	}
	if v == nil {
		return nil
	}
	at, err := time.Parse(time.RFC3339, v.(string))
	if err != nil {
		w.api.t.Fatalf("premium_until %v: %v", v, err)
	}
	return &at
}

func near(t *testing.T, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Fatalf("premium_until is null, want about %v", want)
	}
	if d := got.Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("premium_until %v, want about %v", got, want)
	}
}

// reconciler is a reconciler over the service's commands with a test clock.
func (w *orderWorld) reconciler(t *testing.T, cfg commands.ReconcilerConfig) *commands.Reconciler {
	t.Helper()
	r, err := commands.NewReconciler(cfg, w.api.app.orders, projections.NewOrderWork(w.api.app.env.pool),
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOrderFullFlowCallbackPaysAndExtendsPremium(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	lan := api.signUp("lan@example.vn", "Lan")
	if w.premiumUntil(lan.access) != nil {
		t.Fatal("premium_until is not null before any purchase")
	}

	m, id := w.checkout(lan.access, items(premium, 50000, 1))
	for _, k := range []string{"return_code", "return_message", "sub_return_code", "sub_return_message",
		"zp_trans_token", "order_url", "order_token", "qr_code", "app_trans_id"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("checkout answer lacks %s: %v", k, m)
		}
	}
	if m["return_code"] != float64(1) || m["order_url"] == "" || !zalopay.ValidAppTransID(id) {
		t.Fatalf("checkout answer %v", m)
	}
	if id[:6] != zalopay.VietnamDate(time.Now()) {
		t.Fatalf("app_trans_id %s does not start with today's date in Vietnam", id)
	}
	sent, ok := w.fake.Order(id)
	if !ok || sent.Amount != 50000 || sent.AppUser != lan.id ||
		sent.CallbackURL != "http://localhost:7554/v1/order/checkout/callback" ||
		sent.EmbedData != `{"redirecturl":"http://localhost:3000"}` ||
		sent.Item != `[{"itemname":"Hust Musik Premium","itemprice":50000,"itemquantity":1}]` {
		t.Fatalf("ZaloPay received %+v", sent)
	}

	// Pending, asked twice (GET and POST): the same answer is recorded once.
	for _, method := range []string{"GET", "POST"} {
		st := api.expect(api.do(method, "/v1/order/"+id, lan.access, nil), 200).json(t)
		if st["return_code"] != float64(3) || st["is_processing"] != false || st["amount"] != float64(50000) {
			t.Fatalf("%s status %v", method, st)
		}
		for _, k := range []string{"return_message", "sub_return_code", "sub_return_message", "zp_trans_id"} {
			if _, ok := st[k]; !ok {
				t.Fatalf("status answer lacks %s: %v", k, st)
			}
		}
	}
	pending := "OrderCreated@api > GatewayOrderCreated@api > StatusChecked@status check"
	w.expectStory(lan.access, id, pending)

	// A callback with a bad MAC: refused, nothing changes.
	good, err := w.fake.PaidCallback(id)
	if err != nil {
		t.Fatal(err)
	}
	forged := good
	forged.MAC = zalopay.MAC(zaloKey1, good.Data) // signed with the wrong key
	if a := w.callback(forged); a["return_code"] != float64(-1) || a["return_message"] != "mac not equal" {
		t.Fatalf("bad MAC answer %v", a)
	}
	tampered := good
	tampered.Data = strings.Replace(good.Data, `"amount":50000`, `"amount":5`, 1)
	if a := w.callback(tampered); a["return_code"] != float64(-1) {
		t.Fatalf("tampered data answer %v", a)
	}
	w.expectStory(lan.access, id, pending)
	if w.premiumUntil(lan.access) != nil {
		t.Fatal("a bad MAC granted premium")
	}

	// The real callback pays; Premium runs 30 days from now.
	if a := w.callback(good); a["return_code"] != float64(1) || a["return_message"] != "success" {
		t.Fatalf("callback answer %v", a)
	}
	near(t, w.premiumUntil(lan.access), time.Now().Add(30*24*time.Hour))
	paid := pending + " > PaymentCallbackReceived@callback > OrderPaid@callback"
	tr := w.expectStory(lan.access, id, paid)
	if tr[0].Actor != lan.id || tr[3].Actor != "zalopay" || tr[4].Data["zp_trans_id"] == float64(0) ||
		tr[4].Data["source"] != "callback" || tr[3].Data["signature_verified"] != true {
		t.Fatalf("trail details %+v", tr)
	}
	if tr[1].Data["return_code"] != float64(1) || tr[2].Data["return_code"] != float64(3) {
		t.Fatalf("the gateway's raw codes are not in the trail: %+v", tr)
	}
	for _, e := range tr {
		raw, _ := json.Marshal(e.Data)
		if strings.Contains(string(raw), good.MAC) || strings.Contains(string(raw), zaloKey1) || strings.Contains(string(raw), "mac\"") {
			t.Fatalf("a MAC or key reached the trail: %s", raw)
		}
	}

	// ZaloPay repeats the callback: return_code 2, nothing changes.
	before := w.premiumUntil(lan.access)
	if a := w.callback(good); a["return_code"] != float64(2) {
		t.Fatalf("repeated callback answer %v", a)
	}
	w.expectStory(lan.access, id, paid)
	if after := w.premiumUntil(lan.access); !after.Equal(*before) {
		t.Fatalf("a repeated callback moved premium_until from %v to %v", before, after)
	}

	// Status now says paid; a paid order's trail does not grow.
	st := api.expect(api.do("GET", "/v1/order/"+id, lan.access, nil), 200).json(t)
	if st["return_code"] != float64(1) || st["zp_trans_id"] == float64(0) {
		t.Fatalf("paid status %v", st)
	}
	w.expectStory(lan.access, id, paid)

	// Two units buy 60 days, stacked on what is left.
	_, id2 := w.checkout(lan.access, items(premium, 50000, 2))
	cb2, _ := w.fake.PaidCallback(id2)
	if a := w.callback(cb2); a["return_code"] != float64(1) {
		t.Fatalf("second callback %v", a)
	}
	near(t, w.premiumUntil(lan.access), before.Add(60*24*time.Hour))
	w.expectStory(lan.access, id2, "OrderCreated@api > GatewayOrderCreated@api > PaymentCallbackReceived@callback > OrderPaid@callback")

	// A fresh buyer of two units gets 60 days from now.
	minh := api.signUp("minh@example.vn", "Minh")
	_, id3 := w.checkout(minh.access, items(premium, 50000, 2))
	cb3, _ := w.fake.PaidCallback(id3)
	w.callback(cb3)
	near(t, w.premiumUntil(minh.access), time.Now().Add(60*24*time.Hour))
}

func TestOrderCallbackWithAnotherAmountIsRefused(t *testing.T) {
	w := newOrderWorld(t, nil)
	lan := w.api.signUp("lan@example.vn", "Lan")
	_, id := w.checkout(lan.access, items(premium, 50000, 1))
	cb, _ := w.fake.PaidCallback(id)
	// Forge a validly signed callback with another amount (as if key2 leaked
	// or the gateway erred): the order refuses it and stays pending.
	cb.Data = strings.Replace(cb.Data, `"amount":50000`, `"amount":1000`, 1)
	cb.MAC = zalopay.MAC(zaloKey2, cb.Data)
	if a := w.callback(cb); a["return_code"] == float64(1) {
		t.Fatalf("an amount mismatch was accepted: %v", a)
	}
	tr := w.expectStory(lan.access, id, "OrderCreated@api > GatewayOrderCreated@api > PaymentCallbackReceived@callback")
	if !strings.HasPrefix(tr[2].Data["outcome"].(string), "refused") {
		t.Fatalf("outcome %v", tr[2].Data)
	}
	if w.premiumUntil(lan.access) != nil {
		t.Fatal("premium granted for the wrong amount")
	}
}

func TestOrderLostCallbackIsResolvedByTheReconciler(t *testing.T) {
	w := newOrderWorld(t, nil)
	lan := w.api.signUp("lan@example.vn", "Lan")
	_, id := w.checkout(lan.access, items(premium, 50000, 1))
	_, failedID := w.checkout(lan.access, items("Sticker", 1000, 1))
	w.fake.SetStatus(id, zalopaytest.Paid) // paid, but the callback never comes
	w.fake.SetStatus(failedID, zalopaytest.Failed)

	r := w.reconciler(t, commands.ReconcilerConfig{Interval: 20 * time.Millisecond, FirstCheck: 10 * time.Millisecond,
		MaxBackoff: 40 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	tr := w.waitStory(lan.access, id, "OrderCreated@api > GatewayOrderCreated@api > OrderPaid@reconciler")
	if tr[2].Actor != "reconciler" || tr[2].Data["return_code"] != float64(1) {
		t.Fatalf("paid by %+v", tr[2])
	}
	w.waitStory(lan.access, failedID, "OrderCreated@api > GatewayOrderCreated@api > OrderFailed@reconciler")
	deadline := time.Now().Add(10 * time.Second)
	for w.premiumUntil(lan.access) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the reconciler's payment granted no premium")
		}
		time.Sleep(50 * time.Millisecond)
	}
	near(t, w.premiumUntil(lan.access), time.Now().Add(30*24*time.Hour))

	// The late callback is a repeat.
	cb, _ := w.fake.PaidCallback(id)
	if a := w.callback(cb); a["return_code"] != float64(2) {
		t.Fatalf("late callback answer %v", a)
	}
}

func TestOrderExpiresWhenTheGatewayNeverSaysPaid(t *testing.T) {
	w := newOrderWorld(t, nil)
	lan := w.api.signUp("lan@example.vn", "Lan")
	_, id := w.checkout(lan.access, items(premium, 50000, 1))
	w.api.expect(w.api.do("GET", "/v1/order/"+id, lan.access, nil), 200) // wait for the read model
	offset := time.Minute
	r := w.reconciler(t, commands.ReconcilerConfig{FirstCheck: 5 * time.Second, MaxBackoff: time.Minute,
		Now: func() time.Time { return time.Now().Add(offset) }})
	ctx := context.Background()
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Backoff: a second pass right away does not query again.
	_, queries, _ := w.fake.Counts()
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, again, _ := w.fake.Counts(); again != queries {
		t.Fatalf("queried %d times in a row, backoff ignored", again-queries+1)
	}
	offset = 16 * time.Minute
	if err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tr := w.waitStory(lan.access, id, "OrderCreated@api > GatewayOrderCreated@api > StatusChecked@status check > OrderExpired@reconciler")
	if tr[3].Actor != "reconciler" || tr[3].Data["return_code"] != float64(3) {
		t.Fatalf("expired by %+v", tr[3])
	}
	// An expired order stays expired, and the reconciler leaves it alone.
	_, before, _ := w.fake.Counts()
	r.RunOnce(ctx)
	if _, after, _ := w.fake.Counts(); after != before {
		t.Fatal("the reconciler queried an expired order")
	}
	cb, _ := w.fake.PaidCallback(id)
	if a := w.callback(cb); a["return_code"] != float64(2) {
		t.Fatalf("callback for an expired order %v", a)
	}
	if w.premiumUntil(lan.access) != nil {
		t.Fatal("an expired order granted premium")
	}
}

func TestOrderGatewayDownIsA502AndAFailedOrder(t *testing.T) {
	w := newOrderWorld(t, nil)
	lan := w.api.signUp("lan@example.vn", "Lan")
	w.fake.SetDown(true)
	r := w.api.expect(w.api.do("POST", "/v1/order/checkout", lan.access, items(premium, 50000, 1)), 502)
	m := r.json(t)
	id, _ := m["app_trans_id"].(string)
	if msg, _ := m["error"].(string); msg == "" || id == "" {
		t.Fatalf("502 answer %v", m)
	}
	tr := w.expectStory(lan.access, id, "OrderCreated@api > OrderFailed@api")
	if reason, _ := tr[1].Data["reason"].(string); !strings.Contains(reason, "unreachable") {
		t.Fatalf("failure reason %v", tr[1].Data)
	}
	// Status checks while it is down are 502 too, and record nothing.
	w.api.expect(w.api.do("GET", "/v1/order/"+id, lan.access, nil), 502)
	w.fake.SetDown(false)
	// Back up: the failed order stays failed.
	w.api.expect(w.api.do("GET", "/v1/order/"+id, lan.access, nil), 200)
	w.expectStory(lan.access, id, "OrderCreated@api > OrderFailed@api")
	// And a new checkout works.
	w.checkout(lan.access, items(premium, 50000, 1))
}

func TestOrderAccessOwnerAdminAuditorOthers404(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	lan := api.signUp("lan@example.vn", "Lan")
	stranger := api.signUp("la@example.vn", "Người lạ")
	aud := api.signUp("audit@example.vn", "Kiểm toán")
	api.expect(api.do("POST", "/v1/user/"+aud.id+"/role", w.admin.access, map[string]string{"role": "Auditor"}), 200)
	aud = accountOf(t, api.expect(api.do("POST", "/v1/auth/signin", "", map[string]string{
		"email": "audit@example.vn", "password": "mat-khau-1"}), 200))

	_, id := w.checkout(lan.access, items(premium, 50000, 1))
	for _, path := range []string{"/v1/order/" + id, "/v1/order/" + id + "/events"} {
		r := api.expect(api.do("GET", path, stranger.access, nil), 404)
		if r.errorMessage(t) != "Order not found" {
			t.Fatalf("%s: %s", path, r.body)
		}
		api.expect(api.do("GET", path, "", nil), 401)
	}
	for _, unknown := range []string{"250101_doesnotexist", "checkout", "not-an-id"} {
		api.expect(api.do("GET", "/v1/order/"+unknown, lan.access, nil), 404)
		api.expect(api.do("GET", "/v1/order/"+unknown+"/events", w.admin.access, nil), 404)
	}
	api.expect(api.do("POST", "/v1/order/"+id, aud.access, nil), 200)
	api.expect(api.do("GET", "/v1/order/"+id, w.admin.access, nil), 200)
	// The auditor's check is in the trail, by the auditor.
	tr := w.expectStory(aud.access, id, "OrderCreated@api > GatewayOrderCreated@api > StatusChecked@status check")
	if tr[2].Actor != aud.id {
		t.Fatalf("status check actor %s, want the auditor", tr[2].Actor)
	}
	w.expectStory(w.admin.access, id, "OrderCreated@api > GatewayOrderCreated@api > StatusChecked@status check")
}

func TestOrderCheckoutValidation(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	lan := api.signUp("lan@example.vn", "Lan")
	item := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"items": []any{m}}
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"empty items", map[string]any{"items": []any{}}, 400, "Items array cannot be empty"},
		{"no items", map[string]any{}, 400, "Items array cannot be empty"},
		{"null items", map[string]any{"items": nil}, 400, "Items array cannot be empty"},
		{"items not a list", map[string]any{"items": "premium"}, 400, "Items array cannot be empty"},
		{"zero price", item("itemname", premium, "itemprice", 0, "itemquantity", 1), 400, "Invalid items format or values"},
		{"negative quantity", item("itemname", premium, "itemprice", 50000, "itemquantity", -1), 400, "Invalid items format or values"},
		{"fractional price", item("itemname", premium, "itemprice", 499.5, "itemquantity", 1), 400, "Invalid items format or values"},
		{"price as text", item("itemname", premium, "itemprice", "free", "itemquantity", 1), 400, "Invalid items format or values"},
		{"no name", item("itemprice", 50000, "itemquantity", 1), 400, "Invalid items format or values"},
		{"blank name", item("itemname", " ", "itemprice", 50000, "itemquantity", 1), 400, "Invalid items format or values"},
		{"absurd quantity", item("itemname", premium, "itemprice", 50000, "itemquantity", 1000000), 400, "Invalid items format or values"},
		{"overflow", map[string]any{"items": []any{
			map[string]any{"itemname": "a", "itemprice": int64(9e18), "itemquantity": 2}}}, 400, "Invalid items format or values"},
		{"item not an object", map[string]any{"items": []any{42}}, 400, "Invalid items format or values"},
		{"someone else's userid", map[string]any{"userid": "00000000-0000-0000-0000-000000000001",
			"items": []any{map[string]any{"itemname": premium, "itemprice": 50000, "itemquantity": 1}}}, 403, ""},
		{"own userid", map[string]any{"userid": lan.id,
			"items": []any{map[string]any{"itemname": premium, "itemprice": 50000, "itemquantity": 1}}}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.expect(api.do("POST", "/v1/order/checkout", lan.access, tc.body), tc.status)
			if tc.msg != "" && r.errorMessage(t) != tc.msg {
				t.Fatalf("error %q, want %q", r.errorMessage(t), tc.msg)
			}
		})
	}
	api.expect(api.do("POST", "/v1/order/checkout", "", items(premium, 50000, 1)), 401)
	creates, _, _ := w.fake.Counts()
	if creates != 1 {
		t.Fatalf("%d orders reached ZaloPay, want only the valid one", creates)
	}
}

func TestOrderIdempotencyKeyReturnsTheSameOrder(t *testing.T) {
	w := newOrderWorld(t, nil)
	api := w.api
	lan := api.signUp("lan@example.vn", "Lan")
	first := api.expect(api.do("POST", "/v1/order/checkout", lan.access, items(premium, 50000, 1), "Idempotency-Key", "buy-1"), 200)
	again := api.expect(api.do("POST", "/v1/order/checkout", lan.access, items(premium, 50000, 1), "Idempotency-Key", "buy-1"), 200)
	if again.header.Get("Idempotent-Replayed") != "true" || string(first.body) != string(again.body) {
		t.Fatalf("retry answered %s, first %s", again.body, first.body)
	}
	creates, _, _ := w.fake.Counts()
	var streams int
	if err := api.app.env.pool.QueryRow(context.Background(),
		`SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'order-%'`).Scan(&streams); err != nil {
		t.Fatal(err)
	}
	if creates != 1 || streams != 1 {
		t.Fatalf("%d gateway orders and %d order streams, want 1 and 1", creates, streams)
	}
	// Another key is another order.
	_, other := w.checkout(lan.access, items(premium, 50000, 1))
	if other == first.json(t)["app_trans_id"] {
		t.Fatal("a new checkout reused the order")
	}
}

func TestOrderEndpointsWithoutZaloPayAre503(t *testing.T) {
	api := newTestAPI(t, nil)
	lan := api.signUp("lan@example.vn", "Lan")
	for _, rq := range []struct {
		method, path, token string
		body                any
	}{
		{"POST", "/v1/order/checkout", lan.access, items(premium, 50000, 1)},
		{"POST", "/v1/order/checkout/callback", "", map[string]any{"data": "{}", "mac": "x", "type": 1}},
		{"GET", "/v1/order/250101_abc", lan.access, nil},
		{"GET", "/v1/order/250101_abc/events", lan.access, nil},
	} {
		r := api.expect(api.do(rq.method, rq.path, rq.token, rq.body), 503)
		if r.errorMessage(t) != "Payments are not configured" {
			t.Fatalf("%s %s: %s", rq.method, rq.path, r.body)
		}
	}
}

func TestOrderRoutesAreRateLimitedPerClient(t *testing.T) {
	w := newOrderWorld(t, map[string]string{"HUSTMUSIK_AUTH_RATE_PER_MINUTE": "6"})
	lan := w.api.signUp("lan@example.vn", "Lan") // the auth bucket, not the order one
	limited := 0
	for i := range 12 {
		r := w.api.do("GET", fmt.Sprintf("/v1/order/250101_n%d", i), lan.access, nil)
		if r.status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("12 order requests in a burst of 5 were never limited")
	}
	// The callback is not limited: ZaloPay's servers must get through.
	for range 8 {
		status, a, err := zalopaytest.Send(context.Background(), w.api.url+"/v1/order/checkout/callback",
			zalopaytest.Callback{Data: `{"app_trans_id":"250101_x"}`, MAC: "0", Type: 1})
		if err != nil || status != 200 || a["return_code"] != float64(-1) {
			t.Fatalf("callback %d %v %v", status, a, err)
		}
	}
}
