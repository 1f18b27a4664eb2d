package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/blob"
	"github.com/hustmusik/backend/infra/blob/localblob"
	"github.com/hustmusik/backend/infra/blob/s3blob"
	"github.com/hustmusik/backend/infra/cloudinary"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/images"
)

// mediaStores are where audio and images go, chosen from the configuration
// (ARCHITECTURE.md, backends): an S3-compatible store when S3_ENDPOINT is
// set, else a directory under the data dir whose signed URLs this binary
// serves at /blob/; images on Cloudinary when CLOUDINARY_URL is set (the
// frontend displays only Cloudinary images), else in the blob store.
type mediaStores struct {
	blobs  blob.Store
	images images.Store
	local  *localblob.Store // the local store, whose handler must be mounted; nil with S3
	s3     *s3blob.Store    // the S3 store, whose bucket serve ensures; nil without S3
}

func newMediaStores(cfg config.Config, jwtSecret []byte, logger *slog.Logger) (mediaStores, error) {
	var m mediaStores
	if cfg.S3Endpoint != "" {
		s, err := s3blob.New(s3blob.Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket,
			AccessKeyID: cfg.AWSAccessKeyID, SecretAccessKey: cfg.AWSSecretKey}, logger)
		if err != nil {
			return m, fmt.Errorf("blob store: %w", err)
		}
		m.blobs, m.s3 = s, s
	} else {
		s, err := localblob.New(localblob.Config{
			Dir:       filepath.Join(cfg.DataDir, "blobs"),
			PublicURL: cfg.PublicURL,
			// Derived, so the embedded default needs no setting of its own;
			// a changed JWT_SECRET voids outstanding URLs, as it voids tokens.
			Secret:         localblob.DeriveSecret(string(jwtSecret)),
			AllowedOrigins: cfg.FrontendOrigins,
		}, logger)
		if err != nil {
			return m, fmt.Errorf("blob store: %w", err)
		}
		m.blobs, m.local = s, s
	}
	m.images = images.NewBlobStore(m.blobs)
	if cfg.CloudinaryURL != "" {
		c, err := cloudinary.New(cloudinary.Config{URL: cfg.CloudinaryURL})
		if err != nil {
			return m, fmt.Errorf("image store: %w", err)
		}
		m.images = c
	}
	return m, nil
}

// mount serves the local store's signed URLs at /blob/*key on the API's
// engine, so they share its address, CORS and logs (whose query redaction
// hides the signatures). The server exempts /blob/ from its body limit:
// the handler bounds uploads itself (50 MB).
func (m mediaStores) mount(e *gin.Engine) {
	if m.local == nil {
		return
	}
	h := gin.WrapH(m.local.Handler())
	for _, method := range []string{"GET", "HEAD", "PUT"} {
		e.Handle(method, localblob.PathPrefix+"*key", h)
	}
}

// prepare readies the stores before serving: an S3 bucket is created when
// missing (dev setups; production provisions it).
func (m mediaStores) prepare(ctx context.Context) error {
	if m.s3 == nil {
		return nil
	}
	return m.s3.EnsureBucket(ctx)
}
