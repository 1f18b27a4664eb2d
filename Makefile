# Hust Musik backend. `make run` starts the service on the embedded default;
# `make test` runs every test (it starts the PostgreSQL clusters it needs).
GO        ?= go
BIN       := bin/hustmusik
PKGS      := ./...
TEST_FLAGS ?= -count=1 -timeout 900s

.PHONY: all build run test test-short lint fmt bench clean deps

all: build

deps:
	@scripts/ensure-postgres.sh
	@GO=$(GO) scripts/ensure-versitygw.sh

build:
	$(GO) build -o $(BIN) ./cmd/hustmusik

run: deps build
	./$(BIN) serve

test: deps
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) test $(TEST_FLAGS) $(PKGS)

test-short: deps
	$(GO) test -short $(TEST_FLAGS) $(PKGS)

lint:
	$(GO) vet $(PKGS)
	gofmt -l .

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3s $(PKGS)

clean:
	rm -rf bin
