#!/usr/bin/env bash
# Makes sure versitygw (an S3 gateway over a plain directory) is installed:
# the s3blob tests start one to run the blob conformance suite against a
# real S3 implementation. It is looked for on PATH and in $(go env GOPATH)/bin,
# where `go install` puts it; the tests look in the same two places.
set -euo pipefail
VERSION=v1.8.0
GO=${GO:-go}
if command -v versitygw >/dev/null 2>&1; then exit 0; fi
gobin="$($GO env GOBIN)"
[ -n "$gobin" ] || gobin="$($GO env GOPATH)/bin"
if [ -x "$gobin/versitygw" ]; then exit 0; fi
echo "installing versitygw $VERSION (go install github.com/versity/versitygw/cmd/versitygw@$VERSION)..." >&2
$GO install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
[ -x "$gobin/versitygw" ] && exit 0
echo "versitygw was not installed in $gobin: run go install github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
exit 1
