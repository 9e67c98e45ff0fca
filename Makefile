# Palisade — build, test, demo. `make test` installs what it needs first.
SHELL := /usr/bin/env bash
GO ?= go
MODULE := github.com/palisade-sec/palisade
K8S_VERSION := v1.37.2
# Where tools/kubelab/build.sh puts etcd, kube-apiserver and kubectl; the Go
# harness reads the same variable.
export KUBELAB_BIN ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/palisade/kubelab/$(K8S_VERSION)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X $(MODULE)/internal/buildinfo.version=$(VERSION) -X $(MODULE)/internal/buildinfo.commit=$(COMMIT)

.PHONY: all build deps kubelab test vet fmt-check demo bench fuzz clean

all: build

build: ## Build bin/palisade
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/palisade ./cmd/palisade

deps: ## Install Go modules and the Debian packages tests use (PostgreSQL)
	scripts/deps.sh

kubelab: ## Build etcd, kube-apiserver and kubectl once (cached)
	tools/kubelab/build.sh "$(KUBELAB_BIN)"

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Real components are required here: a missing kube-apiserver, PostgreSQL or ../shared data
# fails the run instead of skipping tests.
test: deps kubelab vet fmt-check ## Vet, check formatting, run all tests with the race detector
	PALISADE_REQUIRE_KUBELAB=1 PALISADE_REQUIRE_POSTGRES=1 PALISADE_REQUIRE_SHARED=1 $(GO) test -race -count=1 -timeout 30m ./...
	@# go test hides the logs of passing packages; print the measured start-up.
	@PALISADE_REQUIRE_KUBELAB=1 $(GO) test -count=1 -run '^TestClusterRoundTrip$$' -v ./internal/kubelab/ | grep -E 'startup to ready|^(ok|FAIL)'

demo: build kubelab ## Start a lab cluster with sample workloads and palisade serve
	scripts/demo.sh

bench: kubelab ## Run the benchmarks under bench/ (they print ratios against baselines)
	$(GO) test -run '^$$' -bench . -benchtime 3x ./bench/...

fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	scripts/fuzz.sh $(or $(FUZZTIME),30s)

clean:
	rm -rf bin .demo
