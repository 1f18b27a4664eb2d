// Package s3blob is the blob store on any S3-compatible service (AWS S3,
// MinIO, Backblaze B2, versitygw): SigV4 presigned URLs, so audio never
// passes through the API process, and path-style addressing, which every
// such service understands (virtual-hosted buckets need DNS they often lack).
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/blob"
)

// Config of an S3 store; the names are the environment's.
type Config struct {
	Endpoint        string // S3_ENDPOINT, e.g. http://127.0.0.1:7070
	Region          string // S3_REGION (default us-east-1)
	Bucket          string // S3_BUCKET
	AccessKeyID     string // AWS_ACCESS_KEY_ID
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	// PublicURL is where public objects (images) are read without a
	// signature: a CDN or a public-read bucket. Default: the path-style
	// object URL <Endpoint>/<Bucket>, which needs a public-read policy on
	// images/* to be viewable.
	PublicURL string
	// HTTPClient talks to the endpoint (default http.DefaultClient's transport).
	HTTPClient *http.Client
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	if c.PublicURL == "" && c.Endpoint != "" && c.Bucket != "" {
		c.PublicURL = c.Endpoint + "/" + c.Bucket
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	for name, v := range map[string]string{"Endpoint": c.Endpoint, "PublicURL": c.PublicURL} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("s3blob: %s %q must be an absolute http(s) URL", name, v))
		}
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("s3blob: Bucket is required"))
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		errs = append(errs, errors.New("s3blob: AccessKeyID and SecretAccessKey are required"))
	}
	return errors.Join(errs...)
}

// Store is a bucket of an S3-compatible service.
type Store struct {
	cfg     Config
	client  *s3.Client
	presign *s3.PresignClient
	logger  *slog.Logger
}

var _ blob.Store = (*Store)(nil)

// New makes a store; it does not contact the service (see EnsureBucket).
func New(cfg Config, logger *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		HTTPClient:   cfg.HTTPClient,
		// Checksums only where S3 demands them: the SDK's default adds
		// CRC32 trailers and presigned checksum parameters that MinIO, B2
		// and browsers PUTting to a presigned URL do not all handle.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &Store{cfg: cfg, client: client, presign: s3.NewPresignClient(client), logger: logger}, nil
}

// EnsureBucket creates the bucket when it does not exist (dev setups; in
// production the bucket is provisioned with its policies).
func (s *Store) EnsureBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("s3blob: check bucket %s: %w", s.cfg.Bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(s.cfg.Bucket)}
	if s.cfg.Region != "us-east-1" {
		// us-east-1 is the one region S3 refuses as an explicit constraint.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(s.cfg.Region)}
	}
	_, err = s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("s3blob: create bucket %s: %w", s.cfg.Bucket, err)
	}
	s.logger.Info("created S3 bucket", "bucket", s.cfg.Bucket, "endpoint", s.cfg.Endpoint)
	return nil
}

// PresignPut signs a PutObject whose Content-Type header is part of the
// signature: a client sending another type gets 403 from S3.
func (s *Store) PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	if err := check(key, contentType, ttl); err != nil {
		return "", err
	}
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.cfg.Bucket),
		Key:         aws.String(key),
		ContentType: aws.String(contentType),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3blob: presign put %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignGet signs a GetObject that S3 answers with the given Content-Type
// and Content-Disposition (response-content-type/-disposition, signed).
func (s *Store) PresignGet(ctx context.Context, key, contentType string, ttl time.Duration, disposition string) (string, error) {
	if err := check(key, contentType, ttl); err != nil {
		return "", err
	}
	if err := blob.ValidateDisposition(disposition); err != nil {
		return "", err
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(s.cfg.Bucket),
		Key:                        aws.String(key),
		ResponseContentType:        aws.String(contentType),
		ResponseContentDisposition: aws.String(disposition),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3blob: presign get %s: %w", key, err)
	}
	return req.URL, nil
}

func check(key, contentType string, ttl time.Duration) error {
	return errors.Join(blob.ValidateKey(key), blob.ValidateContentType(contentType), blob.ValidateTTL(ttl))
}

// Put uploads r in one PutObject. The payload is sent unsigned
// (UNSIGNED-PAYLOAD, still inside a signed request): hashing it first
// would need a seekable body, and a multipart part is not one.
func (s *Store) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := blob.ValidateContentType(contentType); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:      aws.String(s.cfg.Bucket),
		Key:         aws.String(key),
		ContentType: aws.String(contentType),
		Body:        r,
	}
	if size >= 0 {
		in.ContentLength = aws.Int64(size)
	} else {
		// S3 needs a length for a single PutObject; images are small.
		b, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("s3blob: put %s: read: %w", key, err)
		}
		in.Body, in.ContentLength = bytes.NewReader(b), aws.Int64(int64(len(b)))
	}
	_, err := s.client.PutObject(ctx, in, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	if err != nil {
		return fmt.Errorf("s3blob: put %s: %w", key, mapError(err))
	}
	return nil
}

// Stat is a HeadObject; a missing object is domain.ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: stat %s: %w", key, mapError(err))
	}
	info := blob.Info{Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		info.ModTime = *out.LastModified
	}
	return info, nil
}

// Delete removes key; S3 answers a missing key with success, and a
// NoSuchKey from a stricter service is taken as success too.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil && !errors.Is(mapError(err), domain.ErrNotFound) {
		return fmt.Errorf("s3blob: delete %s: %w", key, mapError(err))
	}
	return nil
}

// URL is the unsigned public URL of key under PublicURL.
func (s *Store) URL(key string) string { return s.cfg.PublicURL + "/" + key }

// isNotFound recognises S3's not-found answers: typed errors where the
// SDK models them, the codes otherwise (HEAD answers carry no body, so
// their code is just "NotFound").
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsb) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return true
		}
	}
	return false
}

// mapError turns S3's "no such key" into domain.ErrNotFound (keeping the
// S3 error in the chain); a missing bucket is a setup problem, not a
// missing object, and stays an internal error with its own message.
func mapError(err error) error {
	var nsb *types.NoSuchBucket
	var ae smithy.APIError
	if errors.As(err, &nsb) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket") {
		return fmt.Errorf("bucket does not exist (create it, or call EnsureBucket): %w", err)
	}
	if isNotFound(err) {
		return errors.Join(domain.NotFound("Object not found"), err)
	}
	return err
}
