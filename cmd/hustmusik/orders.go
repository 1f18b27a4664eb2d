package main

import (
	"log/slog"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/zalopay"
	"github.com/hustmusik/backend/projections"
)

// newOrders builds the payment commands and their reconciler. Without
// ZALO_APP_ID there is no gateway: the order endpoints answer 503 and the
// reconciler has nothing to do.
func newOrders(cfg config.Config, e *env, store eventstore.Store, logger *slog.Logger) (*commands.Orders, *commands.Reconciler, error) {
	var gateway commands.Gateway
	if cfg.ZaloAppID != "" {
		client, err := zalopay.New(zalopay.Config{
			AppID: cfg.ZaloAppID, Key1: cfg.ZaloKey1, Key2: cfg.ZaloKey2, Endpoint: cfg.ZaloEndpoint,
			CallbackURL: cfg.PublicURL + "/v1/order/checkout/callback",
			RedirectURL: cfg.FrontendOrigins[0],
		}, logger)
		if err != nil {
			return nil, nil, err
		}
		gateway = client
	}
	orders, err := commands.NewOrders(commands.OrdersConfig{}, store, gateway, logger)
	if err != nil {
		return nil, nil, err
	}
	rec, err := commands.NewReconciler(commands.ReconcilerConfig{}, orders, projections.NewOrderWork(e.pool), logger)
	if err != nil {
		return nil, nil, err
	}
	return orders, rec, nil
}
