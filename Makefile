# ShopEase pipeline. `make run` and `make test` do all the set-up on a fresh machine.
GO       ?= go
BIN      := bin/shopease
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/shopease/shopease/cli.Version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 30s

.PHONY: build run test test-faults test-fast lint fuzz bench clean

build: ## the shopease binary in bin/
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/shopease

run: build ## the demo: embedded Kafka-protocol broker and Redis, no servers to install
	$(BIN) demo

test: ## every test, against embedded AND real Kafka + redis-server (fetched, started, stopped here)
	bash scripts/test.sh

test-faults: ## the fault-tolerance suite, 11 cases (build tag faults; docs/reliability.md) on real Kafka + redis-server
	bash scripts/faults.sh

test-fast: ## unit tests and embedded-environment tests only (real-server tests skip and say so)
	$(GO) test -count=1 ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: ## run every decoder fuzz target for FUZZTIME (default 30s) each
	@for t in $$($(GO) test -list '^Fuzz' ./codecs | grep '^Fuzz'); do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./codecs || exit 1; done

clean:
	rm -rf bin artifacts
	bash testenv/real.sh stop || true

bench: ## performance benchmarks on real Kafka + redis-server; rewrites docs/benchmarks.md
	bash scripts/bench.sh
