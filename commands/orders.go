package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/zalopay"
)

// Gateway is the payment gateway port; infra/zalopay.Client implements it.
type Gateway interface {
	Create(ctx context.Context, req zalopay.CreateRequest) (zalopay.CreateAnswer, error)
	Query(ctx context.Context, appTransID string) (zalopay.QueryAnswer, error)
	ParseCallback(data, mac string) (zalopay.CallbackData, error)
}

// ErrGatewayUnavailable: the gateway gave no usable answer. The HTTP layer
// answers 502: the fault is upstream, and the client may retry.
var ErrGatewayUnavailable = errors.New("payment gateway unavailable")

// actorGateway is the actor of changes ZaloPay's callbacks make, and
// actorReconciler that of the reconciler's.
const (
	actorGateway    = "zalopay"
	actorReconciler = "reconciler"
	// gatewayExpired is ZaloPay's sub_return_code TIME_INVALID: the
	// order's payment time is over.
	gatewayExpired = -54
)

// OrdersConfig tunes the order commands.
type OrdersConfig struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Description is shown to the buyer on ZaloPay's page; %s is the order id.
	Description string
}

func (c *OrdersConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Description == "" {
		c.Description = "Hust Musik - Payment for the order #%s"
	}
}

// Orders are the payment commands: checkout, status check, callback, and
// the reconciler's checks. Every change goes through the Order aggregate.
type Orders struct {
	cfg     OrdersConfig
	gateway Gateway
	orders  *Repository[*domain.Order]
	users   *Repository[*domain.User]
	logger  *slog.Logger
}

// NewOrders makes the order commands. A nil gateway means payments are not
// configured: every command answers 503.
func NewOrders(cfg OrdersConfig, store eventstore.Store, gateway Gateway, logger *slog.Logger) (*Orders, error) {
	cfg.setDefaults()
	if store == nil {
		return nil, errors.New("commands: orders need an event store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Orders{cfg: cfg, gateway: gateway,
		orders: NewRepository(store, domain.OrderStream, domain.NewOrder),
		users:  NewRepository(store, domain.UserStream, domain.NewUser),
		logger: logger}, nil
}

// Configured reports whether a gateway is set.
func (o *Orders) Configured() bool { return o.gateway != nil }

func (o *Orders) configured() error {
	if o.gateway == nil {
		return domain.Errorf(domain.ErrUnavailable, "Payments are not configured")
	}
	return nil
}

// orderContext puts the actor and source of the changes about to be made
// into ctx's event metadata; the order id correlates the whole trail.
func orderContext(ctx context.Context, actor, source, orderID string) context.Context {
	md := eventstore.MetadataFrom(ctx)
	md.ActorID, md.Source, md.CorrelationID = actor, source, orderID
	return eventstore.WithMetadata(ctx, md)
}

// CheckoutResult is the gateway's answer to a new order.
type CheckoutResult struct {
	AppTransID string
	Answer     zalopay.CreateAnswer
	Written    Written
}

// Checkout opens an order for the caller and asks the gateway to create it.
// A refusal by the gateway is an answer (the order is recorded as
// rejected); no answer at all records the order as failed and returns
// ErrGatewayUnavailable with what was written.
func (o *Orders) Checkout(ctx context.Context, p domain.Principal, items []domain.OrderItem) (CheckoutResult, error) {
	if err := o.configured(); err != nil {
		return CheckoutResult{}, err
	}
	amount, err := domain.PriceItems(items)
	if err != nil {
		return CheckoutResult{}, err
	}
	now := o.cfg.Now()
	id := zalopay.NewAppTransID(now)
	ctx = orderContext(ctx, p.UserID, domain.SourceAPI, id)
	var order *domain.Order
	w, err := o.orders.Update(ctx, id, func(ord *domain.Order) error {
		order = ord
		return ord.Create(p.UserID, items, now)
	})
	if err != nil {
		return CheckoutResult{}, err
	}
	lines := make([]zalopay.Item, len(order.Items))
	for i, it := range order.Items {
		lines[i] = zalopay.Item{ItemName: it.Name, ItemPrice: it.Price, ItemQuantity: it.Quantity}
	}
	res := CheckoutResult{AppTransID: id}
	ans, gerr := o.gateway.Create(ctx, zalopay.CreateRequest{AppTransID: id, AppUser: p.UserID, AppTime: now,
		Amount: amount, Items: lines, Description: fmt.Sprintf(o.cfg.Description, id)})
	if gerr != nil {
		w2, err := o.orders.Update(ctx, id, func(ord *domain.Order) error {
			return ord.CreationFailed("Payment gateway unreachable while creating the order")
		})
		res.Written = w.merge(w2)
		if err != nil {
			return res, errors.Join(fmt.Errorf("%w: %w", ErrGatewayUnavailable, gerr), err)
		}
		return res, fmt.Errorf("%w: %w", ErrGatewayUnavailable, gerr)
	}
	codes := domain.GatewayCodes{ReturnCode: ans.ReturnCode, ReturnMessage: ans.ReturnMessage,
		SubReturnCode: ans.SubReturnCode, SubReturnMessage: ans.SubReturnMessage}
	w2, err := o.orders.Update(ctx, id, func(ord *domain.Order) error {
		return ord.GatewayCreated(codes, ans.OrderURL)
	})
	res.Answer, res.Written = ans, w.merge(w2)
	return res, err
}

// Status asks the gateway about an order the caller may see (its buyer, an
// Admin, an Auditor; anyone else gets 404) and records what it said.
func (o *Orders) Status(ctx context.Context, p domain.Principal, id string) (zalopay.QueryAnswer, Written, error) {
	if err := o.configured(); err != nil {
		return zalopay.QueryAnswer{}, Written{}, err
	}
	if !zalopay.ValidAppTransID(id) {
		return zalopay.QueryAnswer{}, Written{}, domain.NotFound("Order not found")
	}
	ord, err := o.orders.Load(ctx, id)
	if err != nil {
		return zalopay.QueryAnswer{}, Written{}, err
	}
	if !ord.VisibleTo(p) {
		return zalopay.QueryAnswer{}, Written{}, domain.NotFound("Order not found")
	}
	ans, err := o.gateway.Query(ctx, id)
	if err != nil {
		return ans, Written{}, fmt.Errorf("%w: %w", ErrGatewayUnavailable, err)
	}
	w, err := o.recordStatus(orderContext(ctx, p.UserID, domain.SourceStatusCheck, id), id, ans, domain.SourceStatusCheck, o.cfg.Now())
	return ans, w, err
}

// Reconcile asks the gateway about an order for the reconciler, at now.
func (o *Orders) Reconcile(ctx context.Context, id string, now time.Time) (Written, error) {
	if err := o.configured(); err != nil {
		return Written{}, err
	}
	ans, err := o.gateway.Query(ctx, id)
	if err != nil {
		return Written{}, fmt.Errorf("%w: %w", ErrGatewayUnavailable, err)
	}
	return o.recordStatus(orderContext(ctx, actorReconciler, domain.SourceReconciler, id), id, ans, domain.SourceReconciler, now)
}

// recordStatus lets the order decide what the gateway's answer means. An
// answer that refuses the request itself (bad MAC, limits, outage) says
// nothing about the payment and changes nothing.
func (o *Orders) recordStatus(ctx context.Context, id string, ans zalopay.QueryAnswer, source string, now time.Time) (Written, error) {
	if zalopay.RequestRefused(ans.SubReturnCode) {
		o.logger.Warn("payment gateway refused a status query", "app_trans_id", id,
			"return_code", ans.ReturnCode, "sub_return_code", ans.SubReturnCode, "sub_return_message", ans.SubReturnMessage)
		return Written{}, nil
	}
	st := domain.GatewayStatus{GatewayCodes: domain.GatewayCodes{ReturnCode: ans.ReturnCode, ReturnMessage: ans.ReturnMessage,
		SubReturnCode: ans.SubReturnCode, SubReturnMessage: ans.SubReturnMessage},
		IsProcessing: ans.IsProcessing, Amount: ans.Amount, ZPTransID: ans.ZPTransID, Expired: ans.SubReturnCode == gatewayExpired}
	var order *domain.Order
	w, err := o.orders.Update(ctx, id, func(ord *domain.Order) error {
		order = ord
		return ord.CheckedStatus(st, source, now)
	})
	if err != nil {
		return w, err
	}
	return o.afterPayment(ctx, order, w, now)
}

// afterPayment extends the buyer's Premium when w paid the order. The
// extension is idempotent per order, and the reconciler repeats it for paid
// orders whose extension is missing (a crash right here).
func (o *Orders) afterPayment(ctx context.Context, order *domain.Order, w Written, now time.Time) (Written, error) {
	paid := false
	for _, t := range w.Types {
		paid = paid || t == domain.OrderPaid{}.EventType()
	}
	if !paid || order == nil || order.PremiumDays() == 0 {
		return w, nil
	}
	w2, err := o.GrantPremium(ctx, order.ID, now)
	return w.merge(w2), err
}

// GrantPremium extends the buyer's Premium for a paid order, once.
func (o *Orders) GrantPremium(ctx context.Context, id string, now time.Time) (Written, error) {
	ord, err := o.orders.Load(ctx, id)
	if err != nil {
		return Written{}, err
	}
	if ord.Status != domain.OrderIsPaid || ord.PremiumDays() == 0 {
		return Written{}, nil
	}
	return o.users.Update(ctx, ord.UserID, func(u *domain.User) error {
		return u.ExtendPremium(ord.ID, ord.PremiumDays(), now)
	})
}

// CallbackAnswer is what ZaloPay gets back from a callback: 1 processed,
// 2 already processed, -1 MAC not equal, 0 not processed (ZaloPay retries).
type CallbackAnswer struct {
	ReturnCode    int    `json:"return_code"`
	ReturnMessage string `json:"return_message"`
}

// Callback processes a payment callback: data is verified with key2 exactly
// as received. A bad MAC changes nothing and is logged (without the MAC);
// a repeat of a processed callback changes nothing.
func (o *Orders) Callback(ctx context.Context, data, mac string, typ int) (CallbackAnswer, Written, error) {
	if err := o.configured(); err != nil {
		return CallbackAnswer{}, Written{}, err
	}
	cb, err := o.gateway.ParseCallback(data, mac)
	if errors.Is(err, zalopay.ErrBadMAC) {
		o.logger.Warn("payment callback refused: mac not equal", "data_bytes", len(data), "type", typ)
		return CallbackAnswer{ReturnCode: -1, ReturnMessage: "mac not equal"}, Written{}, nil
	}
	if err != nil {
		o.logger.Warn("payment callback refused: malformed data", "err", err)
		return CallbackAnswer{ReturnCode: 0, ReturnMessage: "invalid callback data"}, Written{}, nil
	}
	if !zalopay.ValidAppTransID(cb.AppTransID) {
		return CallbackAnswer{ReturnCode: 0, ReturnMessage: "order not found"}, Written{}, nil
	}
	now := o.cfg.Now()
	ctx = orderContext(ctx, actorGateway, domain.SourceCallback, cb.AppTransID)
	var order *domain.Order
	var outcome domain.CallbackOutcome
	w, err := o.orders.Update(ctx, cb.AppTransID, func(ord *domain.Order) error {
		order = ord
		var err error
		outcome, err = ord.ReceiveCallback(domain.PaymentCallback{ZPTransID: cb.ZPTransID, Amount: cb.Amount,
			ServerTime: cb.ServerTime, Channel: cb.Channel, Type: typ}, now)
		return err
	})
	if errors.Is(err, domain.ErrNotFound) {
		o.logger.Warn("payment callback for an unknown order", "app_trans_id", cb.AppTransID)
		return CallbackAnswer{ReturnCode: 0, ReturnMessage: "order not found"}, Written{}, nil
	}
	if err != nil {
		return CallbackAnswer{}, w, err
	}
	switch outcome {
	case domain.CallbackRepeat:
		return CallbackAnswer{ReturnCode: 2, ReturnMessage: "order already processed"}, w, nil
	case domain.CallbackClosed:
		o.logger.Warn("payment callback for a closed order: needs a refund", "app_trans_id", cb.AppTransID, "zp_trans_id", cb.ZPTransID)
		return CallbackAnswer{ReturnCode: 2, ReturnMessage: "order already closed"}, w, nil
	case domain.CallbackMismatch:
		o.logger.Warn("payment callback amount differs from the order", "app_trans_id", cb.AppTransID,
			"paid", cb.Amount, "ordered", order.Amount)
		return CallbackAnswer{ReturnCode: 0, ReturnMessage: "amount mismatch"}, w, nil
	}
	w, err = o.afterPayment(ctx, order, w, now)
	if err != nil {
		// The payment is recorded; the reconciler grants the missing
		// Premium. ZaloPay must not pay twice, so the answer is success.
		o.logger.Error("extending premium after a paid callback failed; the reconciler retries", "app_trans_id", cb.AppTransID, "err", err)
	}
	return CallbackAnswer{ReturnCode: 1, ReturnMessage: "success"}, w, nil
}
