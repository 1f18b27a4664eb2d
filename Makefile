# Hust Musik backend. `make run` starts the service on the embedded default;
# `make test` runs every test (it starts the PostgreSQL clusters it needs).
GO        ?= go
BIN       := bin/hustmusik
PKGS      := ./...
TEST_FLAGS ?= -count=1 -timeout 900s

.PHONY: all build run test test-short lint fmt bench bench-micro clean deps compose-check

all: build

deps:
	@scripts/ensure-postgres.sh
	@GO=$(GO) scripts/ensure-versitygw.sh
	@scripts/ensure-docker-compose.sh || echo "docker-compose missing: make compose-check (part of make test) will fail" >&2

build:
	$(GO) build -o $(BIN) ./cmd/hustmusik

run: deps build
	./$(BIN) serve

test: deps compose-check
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) test $(TEST_FLAGS) $(PKGS)

# The /docs reference page in headless Chromium (build tag browser). Kept
# out of make test: a fresh machine spends minutes installing Chromium;
# scripts/ensure-chromium.sh installs it (as root, from Debian packages) when
# missing. The test itself takes about 30 s and refreshes
# docs/reference-screenshot.png.
test-browser: deps
	@scripts/ensure-chromium.sh >/dev/null
	$(GO) test -tags browser -count=1 -timeout 600s -run 'TestBrowser' -v ./cmd/hustmusik/

test-short: deps
	$(GO) test -short $(TEST_FLAGS) $(PKGS)

# The long checks: the crash tests three times over (each round kills at
# other random moments) and every fuzz target for FUZZTIME. Not in make test.
FUZZTIME ?= 20s
FUZZ_TARGETS := ./domain:FuzzParseID ./domain:FuzzParseArtistIDs ./domain:FuzzParseSongFields \
	./domain:FuzzParseCollectionFields ./domain:FuzzParseRole ./infra/httpapi:FuzzFields ./infra/httpapi:FuzzDecodeJSON \
	./infra/httpapi:FuzzPage ./infra/search:FuzzParseQuery ./infra/token:FuzzVerify ./infra/zalopay:FuzzParseCallback \
	./commands:FuzzDecodeItems
test-long: deps
	$(GO) test -count=3 -timeout 1800s -run 'TestCrash' ./cmd/hustmusik/
	$(MAKE) fuzz

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 2 $$pkg; done

# Ten minutes of mixed traffic against the real binary, memory and
# goroutines sampled every 10 s (SOAK_DURATION changes the length); the
# last result is recorded in docs/security.md.
SOAK_DURATION ?= 10m
soak: deps
	SOAK_DURATION=$(SOAK_DURATION) $(GO) test -tags soak -count=1 -timeout 1800s -run 'TestSoak' -v ./cmd/hustmusik/

lint:
	$(GO) vet $(PKGS)
	gofmt -l .

fmt:
	gofmt -w $$(git ls-files '*.go')

# The performance harness of issue 10 (about 8 minutes on 2 cores): builds the
# binary, runs it on the embedded default, loads it, measures every figure
# next to a baseline taken in the same run (pgbench, COPY, in-process
# search), prints the table and writes bench/results.json, bench/results.txt,
# bench/chart.png and CPU profiles in bench/profiles/. See docs/performance.md.
bench: deps
	$(GO) run ./bench/cmd/hustbench -out bench

# The Go micro-benchmarks (go test -bench) of every package.
bench-micro: deps
	$(GO) test -run '^$$' -bench . -benchtime 3s $(PKGS)

# Validates docker-compose.yml (parse, interpolation, schema) without a
# Docker daemon. JWT_SECRET is mandatory in the file; any value will do here.
compose-check:
	@scripts/ensure-docker-compose.sh
	@if command -v docker-compose >/dev/null 2>&1; then compose=docker-compose; else compose="docker compose"; fi; \
	  JWT_SECRET=compose-check $$compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"

clean:
	rm -rf bin
