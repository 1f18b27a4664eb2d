package domain

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestPriceItems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		items  []OrderItem
		amount int64
		msg    string
	}{
		{"one line", []OrderItem{{"Hust Musik Premium", 50000, 1}}, 50000, ""},
		{"sum of lines", []OrderItem{{"a", 1000, 3}, {"b", 250, 2}}, 3500, ""},
		{"empty", nil, 0, msgNoItems},
		{"blank name", []OrderItem{{"  ", 1000, 1}}, 0, msgInvalidItems},
		{"zero price", []OrderItem{{"a", 0, 1}}, 0, msgInvalidItems},
		{"negative price", []OrderItem{{"a", -5, 1}}, 0, msgInvalidItems},
		{"zero quantity", []OrderItem{{"a", 5, 0}}, 0, msgInvalidItems},
		{"absurd quantity", []OrderItem{{"a", 5, maxItemQuantity + 1}}, 0, msgInvalidItems},
		{"overflowing product", []OrderItem{{"a", math.MaxInt64 / 2, 3}}, 0, msgInvalidItems},
		{"overflowing sum", []OrderItem{{"a", maxOrderAmount, 1}, {"b", maxOrderAmount, 1}}, 0, msgInvalidItems},
		{"at the limit", []OrderItem{{"a", maxOrderAmount, 1}}, maxOrderAmount, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			amount, err := PriceItems(tc.items)
			if tc.msg == "" {
				if err != nil || amount != tc.amount {
					t.Fatalf("amount %d, err %v; want %d", amount, err, tc.amount)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Msg != tc.msg || !errors.Is(err, ErrValidation) {
				t.Fatalf("err %v, want %q", err, tc.msg)
			}
		})
	}
	many := make([]OrderItem, maxOrderItems+1)
	for i := range many {
		many[i] = OrderItem{"a", 1, 1}
	}
	if _, err := PriceItems(many); err == nil {
		t.Fatal("too many items accepted")
	}
}

func TestPremiumDays(t *testing.T) {
	items := []OrderItem{{"Hust Musik Premium", 50000, 2}, {"hust musik premium ", 50000, 1}, {"Sticker", 1000, 5}}
	if got := PremiumDays(items); got != 90 {
		t.Fatalf("premium days %d, want 90", got)
	}
}

var t0 = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

func newPending(t *testing.T) *Order {
	t.Helper()
	o := NewOrder("250101_abc")
	if err := o.Create("u1", []OrderItem{{"Hust Musik Premium", 50000, 1}}, t0); err != nil {
		t.Fatal(err)
	}
	if err := o.GatewayCreated(GatewayCodes{ReturnCode: 1}, "https://pay"); err != nil {
		t.Fatal(err)
	}
	return o
}

func types(o *Order) []string {
	var out []string
	for _, e := range o.Changes() {
		out = append(out, e.EventType())
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOrderCallbackPaysOnceAndRepeatsChangeNothing(t *testing.T) {
	o := newPending(t)
	if o.Create("u1", []OrderItem{{"a", 1, 1}}, t0) == nil {
		t.Fatal("created twice")
	}
	cb := PaymentCallback{ZPTransID: 77, Amount: 50000}
	out, err := o.ReceiveCallback(cb, t0.Add(time.Minute))
	if err != nil || out != CallbackPaid || o.Status != OrderIsPaid || o.ZPTransID != 77 {
		t.Fatalf("outcome %v err %v status %s", out, err, o.Status)
	}
	want := []string{"OrderCreated", "GatewayOrderCreated", "PaymentCallbackReceived", "OrderPaid"}
	if got := types(o); !equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	before := len(o.Changes())
	out, _ = o.ReceiveCallback(cb, t0.Add(2*time.Minute))
	if out != CallbackRepeat || len(o.Changes()) != before {
		t.Fatalf("repeat: outcome %v, %d new events", out, len(o.Changes())-before)
	}
	// A status check after payment changes nothing either.
	if err := o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 2}}, SourceStatusCheck, t0.Add(time.Hour)); err != nil || o.Status != OrderIsPaid || len(o.Changes()) != before {
		t.Fatalf("a paid order changed: %s", o.Status)
	}
	// Another transaction for a paid order is recorded once, never applied.
	out, _ = o.ReceiveCallback(PaymentCallback{ZPTransID: 78, Amount: 50000}, t0.Add(3*time.Minute))
	if out != CallbackClosed || o.ZPTransID != 77 || len(o.Changes()) != before+1 {
		t.Fatalf("second transaction: %v zp %d", out, o.ZPTransID)
	}
}

func TestOrderCallbackAmountMismatchIsFlaggedNotPaid(t *testing.T) {
	o := newPending(t)
	out, err := o.ReceiveCallback(PaymentCallback{ZPTransID: 9, Amount: 1}, t0)
	if err != nil || out != CallbackMismatch || o.Status != OrderPending {
		t.Fatalf("outcome %v status %s", out, o.Status)
	}
	last := o.Changes()[len(o.Changes())-1].(PaymentCallbackReceived)
	if last.Outcome != outcomeMismatch || !last.Verified {
		t.Fatalf("recorded %+v", last)
	}
	n := len(o.Changes())
	if out, _ := o.ReceiveCallback(PaymentCallback{ZPTransID: 9, Amount: 1}, t0); out != CallbackRepeat || len(o.Changes()) != n {
		t.Fatal("the same mismatching callback was recorded twice")
	}
}

func TestOrderStatusChecks(t *testing.T) {
	pending := GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 3, SubReturnCode: 3, ReturnMessage: "processing"}}
	t.Run("unpaid answers are recorded when they change", func(t *testing.T) {
		o := newPending(t)
		n := len(o.Changes())
		for range 3 {
			if err := o.CheckedStatus(pending, SourceReconciler, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		processing := pending
		processing.IsProcessing = true
		processing.SubReturnCode = 4
		o.CheckedStatus(processing, SourceReconciler, t0.Add(2*time.Minute))
		if got := len(o.Changes()) - n; got != 2 || o.Status != OrderPending {
			t.Fatalf("%d StatusChecked events, want 2 (status %s)", got, o.Status)
		}
	})
	t.Run("paid", func(t *testing.T) {
		o := newPending(t)
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 1}, Amount: 50000, ZPTransID: 5}, SourceStatusCheck, t0.Add(time.Minute))
		paid := o.Changes()[len(o.Changes())-1].(OrderPaid)
		if o.Status != OrderIsPaid || paid.Source != SourceStatusCheck || paid.PremiumDays != 30 || paid.ReturnCode != 1 {
			t.Fatalf("status %s, event %+v", o.Status, paid)
		}
	})
	t.Run("paid with another amount is not paid", func(t *testing.T) {
		o := newPending(t)
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 1}, Amount: 10, ZPTransID: 5}, SourceStatusCheck, t0.Add(time.Minute))
		if o.Status != OrderPending {
			t.Fatalf("status %s", o.Status)
		}
	})
	t.Run("failed", func(t *testing.T) {
		o := newPending(t)
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 2, SubReturnCode: -63, SubReturnMessage: "USER_CANCELLED"}}, SourceReconciler, t0.Add(time.Minute))
		failed := o.Changes()[len(o.Changes())-1].(OrderFailed)
		if o.Status != OrderFail || failed.Reason != "USER_CANCELLED" || failed.SubReturnCode != -63 {
			t.Fatalf("status %s, event %+v", o.Status, failed)
		}
	})
	t.Run("still unpaid after its lifetime expires", func(t *testing.T) {
		o := newPending(t)
		o.CheckedStatus(pending, SourceReconciler, t0.Add(OrderLifetime-time.Second))
		if o.Status != OrderPending {
			t.Fatal("expired early")
		}
		o.CheckedStatus(pending, SourceReconciler, t0.Add(OrderLifetime))
		if o.Status != OrderExpire {
			t.Fatalf("status %s", o.Status)
		}
		// Terminal: a late payment answer changes nothing.
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 1}, Amount: 50000}, SourceReconciler, t0.Add(time.Hour))
		if o.Status != OrderExpire {
			t.Fatal("an expired order changed")
		}
		if out, _ := o.ReceiveCallback(PaymentCallback{ZPTransID: 1, Amount: 50000}, t0.Add(time.Hour)); out != CallbackClosed || o.Status != OrderExpire {
			t.Fatal("a callback reopened an expired order")
		}
	})
	t.Run("a failure answer before the create answer is only recorded", func(t *testing.T) {
		o := NewOrder("250101_inflight")
		o.Create("u1", []OrderItem{{"a", 1000, 1}}, t0)
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 2, SubReturnCode: -101}}, SourceReconciler, t0.Add(5*time.Second))
		if o.Status != OrderPending || !equal(types(o), []string{"OrderCreated", "StatusChecked"}) {
			t.Fatalf("status %s, events %v", o.Status, types(o))
		}
		o.GatewayCreated(GatewayCodes{ReturnCode: 1}, "https://pay")
		if o.Status != OrderPending || !o.GatewayAnswered {
			t.Fatal("the create answer was lost")
		}
	})
	t.Run("the gateway says it expired", func(t *testing.T) {
		o := newPending(t)
		o.CheckedStatus(GatewayStatus{GatewayCodes: GatewayCodes{ReturnCode: 2, SubReturnCode: -54}, Expired: true}, SourceReconciler, t0.Add(time.Minute))
		if o.Status != OrderExpire {
			t.Fatalf("status %s", o.Status)
		}
	})
}

func TestOrderGatewayOutcomes(t *testing.T) {
	o := NewOrder("250101_x")
	o.Create("u1", []OrderItem{{"a", 1000, 1}}, t0)
	o.GatewayCreated(GatewayCodes{ReturnCode: 2, SubReturnCode: -402}, "")
	if o.Status != OrderFail || !equal(types(o), []string{"OrderCreated", "GatewayRejected"}) {
		t.Fatalf("rejected: %s %v", o.Status, types(o))
	}
	d := NewOrder("250101_y")
	d.Create("u1", []OrderItem{{"a", 1000, 1}}, t0)
	d.CreationFailed("unreachable")
	d.CreationFailed("unreachable")
	if d.Status != OrderFail || !equal(types(d), []string{"OrderCreated", "OrderFailed"}) {
		t.Fatalf("unreachable: %s %v", d.Status, types(d))
	}
	if err := NewOrder("nope").CreationFailed("x"); !errors.Is(err, ErrNotFound) {
		t.Fatal("an unknown order failed")
	}
}

func TestOrderVisibleTo(t *testing.T) {
	o := newPending(t)
	for _, tc := range []struct {
		p  Principal
		ok bool
	}{
		{Principal{UserID: "u1", Role: RoleUser}, true},
		{Principal{UserID: "u2", Role: RoleUser}, false},
		{Principal{UserID: "u3", Role: RoleArtistManager}, false},
		{Principal{UserID: "a", Role: RoleAdmin}, true},
		{Principal{UserID: "b", Role: RoleAuditor}, true},
		{Principal{}, false},
	} {
		if got := o.VisibleTo(tc.p); got != tc.ok {
			t.Errorf("%+v: %v", tc.p, got)
		}
	}
	if NewOrder("x").VisibleTo(Principal{UserID: "a", Role: RoleAdmin}) {
		t.Error("a missing order is visible")
	}
}

func TestExtendPremiumOncePerOrderFromTheLaterEnd(t *testing.T) {
	u := NewUser("u1")
	u.Register("Lan", "", "", RoleUser, "password")
	u.ExtendPremium("o1", 30, t0)
	if want := t0.Add(30 * 24 * time.Hour); !u.PremiumUntil.Equal(want) {
		t.Fatalf("until %v, want %v", u.PremiumUntil, want)
	}
	u.ExtendPremium("o1", 30, t0.Add(time.Hour)) // a retried process
	u.ExtendPremium("o2", 60, t0.Add(24*time.Hour))
	if want := t0.Add(90 * 24 * time.Hour); !u.PremiumUntil.Equal(want) {
		t.Fatalf("until %v, want %v (stacked from the current end)", u.PremiumUntil, want)
	}
	if n := len(u.Changes()); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	// After Premium lapsed, it starts from now again.
	later := t0.Add(200 * 24 * time.Hour)
	u.ExtendPremium("o3", 30, later)
	if want := later.Add(30 * 24 * time.Hour); !u.PremiumUntil.Equal(want) {
		t.Fatalf("until %v, want %v", u.PremiumUntil, want)
	}
	gone := NewUser("u2")
	if err := gone.ExtendPremium("o1", 30, t0); err != nil || len(gone.Changes()) != 0 {
		t.Fatal("a missing user got premium")
	}
}
