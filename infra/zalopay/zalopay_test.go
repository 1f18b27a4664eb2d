package zalopay_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hustmusik/backend/infra/zalopay"
	"github.com/hustmusik/backend/infra/zalopay/zalopaytest"
)

// reference computes HMAC-SHA256 independently of the package.
func reference(key, data string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil))
}

func TestMACMatchesHMACSHA256LowerHex(t *testing.T) {
	for _, tc := range []struct{ key, data string }{
		{"sdngKKJmqEMzvh5QQcdD2A9XBSKUNaYn", "2553|200904_2553_1598435687208|demo|10000|1599189392817|{}|[]"},
		{"trMrHtvjo6myautxDUiAcYsVtaeQ8nhf", `{"app_id":2553,"amount":10000}`},
		{"k", ""},
		{"khóa", "dữ liệu"},
	} {
		got := zalopay.MAC(tc.key, tc.data)
		if want := reference(tc.key, tc.data); got != want {
			t.Errorf("MAC(%q, %q) = %s, want %s", tc.key, tc.data, got, want)
		}
		if got != strings.ToLower(got) || len(got) != 64 {
			t.Errorf("MAC is not 64 lower-case hex digits: %s", got)
		}
	}
}

func TestMACInputs(t *testing.T) {
	got := zalopay.CreateMACInput("2553", "250101_abc", "user-1", 50000, 1735689600000, `{"redirecturl":"http://x"}`, `[{"itemname":"a"}]`)
	want := `2553|250101_abc|user-1|50000|1735689600000|{"redirecturl":"http://x"}|[{"itemname":"a"}]`
	if got != want {
		t.Fatalf("create input %q, want %q", got, want)
	}
	if got := zalopay.QueryMACInput("2553", "250101_abc", "key-one"); got != "2553|250101_abc|key-one" {
		t.Fatalf("query input %q", got)
	}
}

func TestValidMAC(t *testing.T) {
	key, data := "callback-key", `{"app_trans_id":"250101_x","amount":1000}`
	good := reference(key, data)
	for _, tc := range []struct {
		name, data, mac string
		ok              bool
	}{
		{"exact", data, good, true},
		{"upper-case hex", data, strings.ToUpper(good), true},
		{"data re-encoded with a space", strings.Replace(data, ":", ": ", 1), good, false},
		{"one digit off", data, good[:63] + "0", good[63] == '0'},
		{"empty mac", data, "", false},
		{"truncated", data, good[:32], false},
	} {
		if got := zalopay.ValidMAC(key, tc.data, tc.mac); got != tc.ok {
			t.Errorf("%s: ValidMAC = %v, want %v", tc.name, got, tc.ok)
		}
	}
	if zalopay.ValidMAC("other-key", data, good) {
		t.Error("a MAC under another key verified")
	}
}

func TestAppTransIDUsesVietnamDate(t *testing.T) {
	shape := regexp.MustCompile(`^\d{6}_[0-9a-f]{20}$`)
	for _, tc := range []struct {
		utc  string
		date string
	}{
		{"2025-01-01T16:59:59Z", "250101"},
		{"2025-01-01T17:00:00Z", "250102"}, // midnight in Hà Nội
		{"2025-03-31T23:30:00Z", "250401"}, // 06:30 next day in Vietnam
		{"2024-12-31T23:30:00Z", "250101"}, // across a year
		{"2025-06-15T00:10:00Z", "250615"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.utc)
		id := zalopay.NewAppTransID(now)
		if !shape.MatchString(id) || len(id) > zalopay.MaxAppTransID {
			t.Fatalf("%s: id %q has the wrong shape", tc.utc, id)
		}
		if id[:6] != tc.date {
			t.Errorf("%s: id %q, want date %s", tc.utc, id, tc.date)
		}
		if !zalopay.ValidAppTransID(id) {
			t.Errorf("%q is not valid", id)
		}
	}
	now := time.Now()
	if a, b := zalopay.NewAppTransID(now), zalopay.NewAppTransID(now); a == b {
		t.Fatal("two ids at the same instant are equal")
	}
}

func TestValidAppTransID(t *testing.T) {
	for id, ok := range map[string]bool{
		"250101_abc":                        true,
		"250101_":                           false,
		"250101-abc":                        false,
		"251301_abc":                        false, // month 13
		"checkout":                          false,
		"250101_a/b":                        false,
		"250101_a b":                        false,
		"250101_" + strings.Repeat("a", 33): true,
		"250101_" + strings.Repeat("a", 34): false, // 41 characters
	} {
		if got := zalopay.ValidAppTransID(id); got != ok {
			t.Errorf("ValidAppTransID(%q) = %v, want %v", id, got, ok)
		}
	}
}

func newClient(t *testing.T, fake *zalopaytest.Server, key1, key2 string, timeout time.Duration) *zalopay.Client {
	t.Helper()
	c, err := zalopay.New(zalopay.Config{AppID: fake.AppID, Key1: key1, Key2: key2, Endpoint: fake.URL(),
		CallbackURL: "http://localhost:7554/v1/order/checkout/callback", RedirectURL: "http://localhost:3000",
		Timeout: timeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigValidateJoinsProblems(t *testing.T) {
	_, err := zalopay.New(zalopay.Config{Endpoint: "ftp://x"}, nil)
	if err == nil {
		t.Fatal("an empty config was accepted")
	}
	for _, want := range []string{"AppID", "Key1", "Endpoint", "CallbackURL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestClientAgainstFakeGateway(t *testing.T) {
	fake := zalopaytest.New("2553", "key-one", "key-two")
	defer fake.Close()
	c := newClient(t, fake, "key-one", "key-two", 2*time.Second)
	ctx := context.Background()
	now := time.Now()
	id := zalopay.NewAppTransID(now)
	items := []zalopay.Item{{ItemName: "Hust Musik Premium", ItemPrice: 50000, ItemQuantity: 2}}
	ans, err := c.Create(ctx, zalopay.CreateRequest{AppTransID: id, AppUser: "u1", AppTime: now, Amount: 100000, Items: items, Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.ReturnCode != 1 || ans.OrderURL == "" || ans.ZPTransToken == "" {
		t.Fatalf("create answer %+v", ans)
	}
	o, _ := fake.Order(id)
	var sent []zalopay.Item
	if err := json.Unmarshal([]byte(o.Item), &sent); err != nil || len(sent) != 1 || sent[0] != items[0] {
		t.Fatalf("item sent %q", o.Item)
	}
	if o.EmbedData != `{"redirecturl":"http://localhost:3000"}` || o.CallbackURL != "http://localhost:7554/v1/order/checkout/callback" || o.Amount != 100000 {
		t.Fatalf("order as received %+v", o)
	}

	// The same id twice: ZaloPay's duplicate answer.
	dup, err := c.Create(ctx, zalopay.CreateRequest{AppTransID: id, AppUser: "u1", AppTime: now, Amount: 100000, Items: items, Description: "d"})
	if err != nil || dup.ReturnCode != 2 || dup.SubReturnCode != -68 {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}

	q, err := c.Query(ctx, id)
	if err != nil || q.ReturnCode != 3 {
		t.Fatalf("pending query %+v %v", q, err)
	}
	fake.SetStatus(id, zalopaytest.Paid)
	q, err = c.Query(ctx, id)
	if err != nil || q.ReturnCode != 1 || q.ZPTransID == 0 || q.Amount != 100000 {
		t.Fatalf("paid query %+v %v", q, err)
	}

	// A wrong key1: every request is refused as ZaloPay refuses a bad MAC.
	wrong := newClient(t, fake, "not-key-one", "key-two", 2*time.Second)
	id2 := zalopay.NewAppTransID(now)
	bad, err := wrong.Create(ctx, zalopay.CreateRequest{AppTransID: id2, AppUser: "u1", AppTime: now, Amount: 1000, Items: items, Description: "d"})
	if err != nil || bad.ReturnCode != 2 || bad.SubReturnCode != -402 || !zalopay.RequestRefused(bad.SubReturnCode) {
		t.Fatalf("bad create MAC: %+v %v", bad, err)
	}
	if _, ok := fake.Order(id2); ok {
		t.Fatal("an order with a bad MAC was created")
	}
	badQ, err := wrong.Query(ctx, id)
	if err != nil || badQ.ReturnCode != 2 || badQ.SubReturnCode != -402 {
		t.Fatalf("bad query MAC: %+v %v", badQ, err)
	}
	if _, _, badMACs := fake.Counts(); badMACs != 2 {
		t.Fatalf("fake counted %d bad MACs, want 2", badMACs)
	}

	// Down and slow gateways are errors, not answers.
	fake.SetDown(true)
	if _, err := c.Query(ctx, id); !errors.Is(err, zalopay.ErrUnavailable) {
		t.Fatalf("down: %v", err)
	}
	fake.SetDown(false)
	fake.SetDelay(500 * time.Millisecond)
	slow := newClient(t, fake, "key-one", "key-two", 100*time.Millisecond)
	if _, err := slow.Query(ctx, id); !errors.Is(err, zalopay.ErrUnavailable) {
		t.Fatalf("slow: %v", err)
	}
}

func TestParseCallback(t *testing.T) {
	fake := zalopaytest.New("2553", "key-one", "key-two")
	defer fake.Close()
	c := newClient(t, fake, "key-one", "key-two", time.Second)
	now := time.Now()
	id := zalopay.NewAppTransID(now)
	if _, err := c.Create(context.Background(), zalopay.CreateRequest{AppTransID: id, AppUser: "u", AppTime: now, Amount: 2000,
		Items: []zalopay.Item{{ItemName: "x", ItemPrice: 1000, ItemQuantity: 2}}, Description: "d"}); err != nil {
		t.Fatal(err)
	}
	cb, err := fake.PaidCallback(id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.ParseCallback(cb.Data, cb.MAC)
	if err != nil || d.AppTransID != id || d.Amount != 2000 || d.ZPTransID == 0 {
		t.Fatalf("parsed %+v %v", d, err)
	}
	if _, err := c.ParseCallback(cb.Data, reference("key-one", cb.Data)); !errors.Is(err, zalopay.ErrBadMAC) {
		t.Fatalf("a callback signed with key1 verified: %v", err)
	}
	if _, err := c.ParseCallback(strings.Replace(cb.Data, `"amount":2000`, `"amount":2`, 1), cb.MAC); !errors.Is(err, zalopay.ErrBadMAC) {
		t.Fatalf("tampered data verified: %v", err)
	}
}
