package eventstore

import "context"

type metadataKey struct{}

// WithMetadata puts the request's metadata (actor, request id, source) in ctx
// so that every event appended on its behalf carries it.
func WithMetadata(ctx context.Context, md Metadata) context.Context {
	return context.WithValue(ctx, metadataKey{}, md)
}

// MetadataFrom returns the metadata put in ctx, or the zero value.
func MetadataFrom(ctx context.Context) Metadata {
	md, _ := ctx.Value(metadataKey{}).(Metadata)
	return md
}
