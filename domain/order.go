package domain

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// OrderStream is the stream of one payment order, named by its ZaloPay
// app_trans_id.
func OrderStream(appTransID string) string { return "order-" + appTransID }

const (
	// PremiumItemName is the item that buys Premium.
	PremiumItemName = "Hust Musik Premium"
	// PremiumDaysPerUnit is how much Premium one unit buys.
	PremiumDaysPerUnit = 30
	// OrderLifetime is how long an order may be paid: ZaloPay's default
	// expiry. After it, an order the gateway still calls unpaid is expired.
	OrderLifetime = 15 * time.Minute

	maxOrderItems    = 50
	maxItemName      = 256
	maxItemQuantity  = 1000
	maxOrderAmount   = 100_000_000_000 // VND: far above any real order, far below int64 overflow
	msgNoItems       = "Items array cannot be empty"
	msgInvalidItems  = "Invalid items format or values"
	gatewaySuccess   = 1
	gatewayFail      = 2
	outcomePaid      = "paid"
	outcomeMismatch  = "refused: amount differs from the order"
	outcomeClosed    = "refused: order already closed"
	outcomeDuplicate = "refused: order already paid by another transaction"
)

// Sources say through which door a change came; each event's metadata and
// the terminal events themselves carry one.
const (
	SourceAPI         = "api"
	SourceCallback    = "callback"
	SourceStatusCheck = "status check"
	SourceReconciler  = "reconciler"
)

// OrderItem is one line of an order. Prices and amounts are whole VND.
type OrderItem struct {
	Name     string `json:"itemname"`
	Price    int64  `json:"itemprice"`
	Quantity int64  `json:"itemquantity"`
}

// PriceItems validates an order's items and returns its amount: the sum of
// price × quantity, refusing anything that could overflow or is absurd.
func PriceItems(items []OrderItem) (int64, error) {
	if len(items) == 0 {
		return 0, Invalid(msgNoItems)
	}
	if len(items) > maxOrderItems {
		return 0, Invalid(msgInvalidItems)
	}
	var amount int64
	for _, it := range items {
		name := strings.TrimSpace(it.Name)
		// A NUL would fail the append (jsonb stores none): a 400, not a 500.
		if name == "" || len(name) > maxItemName || !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 ||
			it.Price <= 0 || it.Price > maxOrderAmount || it.Quantity <= 0 || it.Quantity > maxItemQuantity {
			return 0, Invalid(msgInvalidItems)
		}
		if it.Price > (math.MaxInt64-amount)/it.Quantity {
			return 0, Invalid(msgInvalidItems)
		}
		amount += it.Price * it.Quantity
		if amount > maxOrderAmount {
			return 0, Invalid(msgInvalidItems)
		}
	}
	return amount, nil
}

// PremiumDays is how many days of Premium the items buy.
func PremiumDays(items []OrderItem) int {
	var units int64
	for _, it := range items {
		if strings.EqualFold(strings.TrimSpace(it.Name), PremiumItemName) {
			units += it.Quantity
		}
	}
	return int(units) * PremiumDaysPerUnit
}

// OrderStatus is where an order is in its life.
type OrderStatus string

const (
	OrderPending OrderStatus = "pending"
	OrderIsPaid  OrderStatus = "paid"
	OrderFail    OrderStatus = "failed"
	OrderExpire  OrderStatus = "expired"
)

// GatewayCodes are the gateway's raw codes as it sent them.
type GatewayCodes struct {
	ReturnCode       int    `json:"return_code"`
	ReturnMessage    string `json:"return_message"`
	SubReturnCode    int    `json:"sub_return_code"`
	SubReturnMessage string `json:"sub_return_message"`
}

// Order events. None carries a MAC or key; amounts are VND.
type (
	OrderCreated struct {
		AppTransID string      `json:"app_trans_id"`
		UserID     string      `json:"user_id"`
		Items      []OrderItem `json:"items"`
		Amount     int64       `json:"amount"`
		CreatedAt  time.Time   `json:"created_at"`
	}
	// GatewayOrderCreated: ZaloPay accepted the order and gave a payment
	// page. Its zp_trans_token is a payment credential: not kept.
	GatewayOrderCreated struct {
		AppTransID string `json:"app_trans_id"`
		GatewayCodes
		OrderURL string `json:"order_url"`
	}
	// GatewayRejected: ZaloPay refused to create the order; it is failed.
	GatewayRejected struct {
		AppTransID string `json:"app_trans_id"`
		GatewayCodes
	}
	// PaymentCallbackReceived: a callback whose MAC verified arrived (bad
	// MACs are logged, never recorded on the order). Outcome says what it did.
	PaymentCallbackReceived struct {
		AppTransID string `json:"app_trans_id"`
		ZPTransID  int64  `json:"zp_trans_id"`
		Amount     int64  `json:"amount"`
		ServerTime int64  `json:"server_time"`
		Channel    int    `json:"channel"`
		Type       int    `json:"type"`
		// Verified is always true: only verified callbacks are recorded.
		Verified bool   `json:"signature_verified"`
		Outcome  string `json:"outcome"`
	}
	OrderPaid struct {
		AppTransID  string    `json:"app_trans_id"`
		UserID      string    `json:"user_id"`
		ZPTransID   int64     `json:"zp_trans_id"`
		Amount      int64     `json:"amount"`
		PaidAt      time.Time `json:"paid_at"`
		Source      string    `json:"source"`
		PremiumDays int       `json:"premium_days"`
		GatewayCodes
	}
	OrderFailed struct {
		AppTransID string `json:"app_trans_id"`
		Reason     string `json:"reason"`
		Source     string `json:"source"`
		GatewayCodes
	}
	OrderExpired struct {
		AppTransID string    `json:"app_trans_id"`
		ExpiredAt  time.Time `json:"expired_at"`
		Source     string    `json:"source"`
		GatewayCodes
	}
	// StatusChecked: a status check found the order still unpaid. Recorded
	// only when the gateway's codes differ from the last check recorded,
	// so that a reconciler polling every few seconds keeps the trail short.
	StatusChecked struct {
		AppTransID   string `json:"app_trans_id"`
		Source       string `json:"source"`
		IsProcessing bool   `json:"is_processing"`
		Amount       int64  `json:"amount"`
		GatewayCodes
	}
)

func (OrderCreated) EventType() string            { return "OrderCreated" }
func (GatewayOrderCreated) EventType() string     { return "GatewayOrderCreated" }
func (GatewayRejected) EventType() string         { return "GatewayRejected" }
func (PaymentCallbackReceived) EventType() string { return "PaymentCallbackReceived" }
func (OrderPaid) EventType() string               { return "OrderPaid" }
func (OrderFailed) EventType() string             { return "OrderFailed" }
func (OrderExpired) EventType() string            { return "OrderExpired" }
func (StatusChecked) EventType() string           { return "StatusChecked" }

// OrderEventTypes lists every event of an order stream.
func OrderEventTypes() []string {
	return []string{"OrderCreated", "GatewayOrderCreated", "GatewayRejected", "PaymentCallbackReceived",
		"OrderPaid", "OrderFailed", "OrderExpired", "StatusChecked"}
}

func init() {
	register[OrderCreated]()
	register[GatewayOrderCreated]()
	register[GatewayRejected]()
	register[PaymentCallbackReceived]()
	register[OrderPaid]()
	register[OrderFailed]()
	register[OrderExpired]()
	register[StatusChecked]()
}

// Order is a payment order: pending until it is paid, failed or expired;
// a terminal state never changes.
type Order struct {
	Root
	ID        string
	UserID    string
	Items     []OrderItem
	Amount    int64
	CreatedAt time.Time
	Status    OrderStatus
	// GatewayAnswered: ZaloPay answered the create request (either way).
	GatewayAnswered bool
	ZPTransID       int64
	PaidAt          time.Time

	callbacks map[int64]bool // zp_trans_ids whose callback was recorded
	lastCheck *GatewayCodes
}

// NewOrder is an empty aggregate for app_trans_id id.
func NewOrder(id string) *Order { return &Order{ID: id} }

// Exists reports whether the order was created.
func (o *Order) Exists() bool { return o.Status != "" }

// Terminal reports whether the order is paid, failed or expired.
func (o *Order) Terminal() bool { return o.Exists() && o.Status != OrderPending }

// ExpiresAt is when an unpaid order expires.
func (o *Order) ExpiresAt() time.Time { return o.CreatedAt.Add(OrderLifetime) }

// PremiumDays is how much Premium the order buys.
func (o *Order) PremiumDays() int { return PremiumDays(o.Items) }

// VisibleTo reports whether p may see the order: its buyer, an Admin or an
// Auditor. Everybody else is told it does not exist.
func (o *Order) VisibleTo(p Principal) bool {
	return o.Exists() && (p.UserID == o.UserID || p.Role == RoleAdmin || p.Role == RoleAuditor)
}

// Apply folds one event into the order's state.
func (o *Order) Apply(e Event) {
	switch e := e.(type) {
	case OrderCreated:
		o.ID, o.UserID, o.Items, o.Amount, o.CreatedAt = e.AppTransID, e.UserID, e.Items, e.Amount, e.CreatedAt
		o.Status = OrderPending
	case GatewayOrderCreated:
		o.GatewayAnswered = true
	case GatewayRejected:
		o.GatewayAnswered = true
		o.Status = OrderFail
	case PaymentCallbackReceived:
		if o.callbacks == nil {
			o.callbacks = map[int64]bool{}
		}
		o.callbacks[e.ZPTransID] = true
	case OrderPaid:
		o.Status, o.ZPTransID, o.PaidAt = OrderIsPaid, e.ZPTransID, e.PaidAt
	case OrderFailed:
		o.Status = OrderFail
	case OrderExpired:
		o.Status = OrderExpire
	case StatusChecked:
		c := e.GatewayCodes
		o.lastCheck = &c
	}
}

// Create opens the order for userID.
func (o *Order) Create(userID string, items []OrderItem, now time.Time) error {
	if o.Exists() {
		return Conflict("Order already exists")
	}
	amount, err := PriceItems(items)
	if err != nil {
		return err
	}
	clean := make([]OrderItem, len(items))
	for i, it := range items {
		clean[i] = OrderItem{Name: strings.TrimSpace(it.Name), Price: it.Price, Quantity: it.Quantity}
	}
	o.Record(o, OrderCreated{AppTransID: o.ID, UserID: userID, Items: clean, Amount: amount, CreatedAt: now.UTC()})
	return nil
}

// GatewayCreated records ZaloPay's answer to the create request: accepted
// (return_code 1) or rejected, which fails the order.
func (o *Order) GatewayCreated(codes GatewayCodes, orderURL string) error {
	if !o.Exists() {
		return NotFound("Order not found")
	}
	if o.GatewayAnswered || o.Terminal() {
		return nil
	}
	if codes.ReturnCode == gatewaySuccess {
		o.Record(o, GatewayOrderCreated{AppTransID: o.ID, GatewayCodes: codes, OrderURL: orderURL})
	} else {
		o.Record(o, GatewayRejected{AppTransID: o.ID, GatewayCodes: codes})
	}
	return nil
}

// CreationFailed records that the gateway could not be reached to create
// the order: nobody can pay it, so it is failed at once.
func (o *Order) CreationFailed(reason string) error {
	if !o.Exists() {
		return NotFound("Order not found")
	}
	if o.GatewayAnswered || o.Terminal() {
		return nil
	}
	o.Record(o, OrderFailed{AppTransID: o.ID, Reason: reason, Source: SourceAPI})
	return nil
}

// PaymentCallback is a verified payment callback.
type PaymentCallback struct {
	ZPTransID  int64
	Amount     int64
	ServerTime int64
	Channel    int
	Type       int
}

// CallbackOutcome is what a verified callback did, and the answer ZaloPay gets.
type CallbackOutcome int

const (
	// CallbackPaid: the order is paid now.
	CallbackPaid CallbackOutcome = iota
	// CallbackRepeat: the payment was already processed; nothing changed.
	CallbackRepeat
	// CallbackClosed: the order had failed or expired; the payment is flagged.
	CallbackClosed
	// CallbackMismatch: the paid amount is not the order's; refused and flagged.
	CallbackMismatch
)

// ReceiveCallback applies a verified payment callback. A repeat of a
// processed callback records nothing. A payment for a closed order, or of
// the wrong amount, is recorded once (for an auditor and a refund) but
// changes no state.
func (o *Order) ReceiveCallback(cb PaymentCallback, now time.Time) (CallbackOutcome, error) {
	if !o.Exists() {
		return 0, NotFound("Order not found")
	}
	if o.callbacks[cb.ZPTransID] || (o.Status == OrderIsPaid && o.ZPTransID == cb.ZPTransID) {
		return CallbackRepeat, nil
	}
	rec := PaymentCallbackReceived{AppTransID: o.ID, ZPTransID: cb.ZPTransID, Amount: cb.Amount,
		ServerTime: cb.ServerTime, Channel: cb.Channel, Type: cb.Type, Verified: true}
	switch {
	case o.Status == OrderIsPaid:
		rec.Outcome = outcomeDuplicate
		o.Record(o, rec)
		return CallbackClosed, nil
	case o.Terminal():
		rec.Outcome = outcomeClosed
		o.Record(o, rec)
		return CallbackClosed, nil
	case cb.Amount != o.Amount:
		rec.Outcome = outcomeMismatch
		o.Record(o, rec)
		return CallbackMismatch, nil
	}
	rec.Outcome = outcomePaid
	o.Record(o, rec)
	o.Record(o, OrderPaid{AppTransID: o.ID, UserID: o.UserID, ZPTransID: cb.ZPTransID, Amount: cb.Amount,
		PaidAt: now.UTC(), Source: SourceCallback, PremiumDays: o.PremiumDays()})
	return CallbackPaid, nil
}

// PendingOrder is an order awaiting its outcome, as the reconciler finds it.
type PendingOrder struct {
	AppTransID string
	CreatedAt  time.Time
}

// GatewayStatus is the gateway's answer to a status query.
type GatewayStatus struct {
	GatewayCodes
	IsProcessing bool
	Amount       int64
	ZPTransID    int64
	// Expired: the gateway says the order's payment time is over.
	Expired bool
}

// CheckedStatus applies the gateway's answer to a status query made from
// source at now. Paid and failed answers close a pending order; an unpaid
// answer expires it once its lifetime is over (or the gateway says it
// expired), otherwise it is recorded only when it differs from the last
// check recorded. A closed order changes no more.
func (o *Order) CheckedStatus(st GatewayStatus, source string, now time.Time) error {
	if !o.Exists() {
		return NotFound("Order not found")
	}
	if o.Terminal() {
		return nil
	}
	switch {
	case st.ReturnCode == gatewaySuccess && st.Amount == o.Amount:
		o.Record(o, OrderPaid{AppTransID: o.ID, UserID: o.UserID, ZPTransID: st.ZPTransID, Amount: st.Amount,
			PaidAt: now.UTC(), Source: source, PremiumDays: o.PremiumDays(), GatewayCodes: st.GatewayCodes})
		return nil
	case st.ReturnCode == gatewayFail && st.Expired, st.ReturnCode != gatewaySuccess && !now.Before(o.ExpiresAt()):
		o.Record(o, OrderExpired{AppTransID: o.ID, ExpiredAt: now.UTC(), Source: source, GatewayCodes: st.GatewayCodes})
		return nil
	case st.ReturnCode == gatewayFail && o.GatewayAnswered:
		// Before the create answer is in, "failed" may only mean the
		// gateway has not registered the order yet: it must not fail an
		// order whose payment page the buyer is about to get.
		reason := st.SubReturnMessage
		if reason == "" {
			reason = st.ReturnMessage
		}
		o.Record(o, OrderFailed{AppTransID: o.ID, Reason: reason, Source: source, GatewayCodes: st.GatewayCodes})
		return nil
	}
	// Still unpaid (3), or paid with an amount that is not the order's
	// (recorded for an auditor, never accepted).
	if o.lastCheck == nil || *o.lastCheck != st.GatewayCodes {
		o.Record(o, StatusChecked{AppTransID: o.ID, Source: source, IsProcessing: st.IsProcessing,
			Amount: st.Amount, GatewayCodes: st.GatewayCodes})
	}
	return nil
}
