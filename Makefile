# ferry's developer entry points. `make test` is what CI runs.
GO       ?= go
BIN      := bin/ferry
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: build test unit e2e lint demo bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ferry

# Unit tests with the race detector, then (as root on Linux) the lab's
# end-to-end tests; without root the e2e suite says it was skipped.
test: build
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz
	$(MAKE) e2e

e2e: build
	@if [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ]; then \
		$(GO) test -tags e2e -count=1 -timeout 45m -v ./lab/e2e/ ; \
	else \
		echo "e2e: skipped: the lab needs root on Linux (run 'sudo make e2e')"; \
	fi

# Each fuzz target runs briefly; crashes land in testdata/fuzz as regressions.
FUZZTIME ?= 5s
fuzz:
	@grep -rl --include='*_test.go' '^func Fuzz' . | while read f; do \
		dir=$$(dirname $$f); \
		for fn in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "fuzz $$dir $$fn"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

demo: build
	$(BIN) lab up
	$(BIN) deploy -i lab/inventory.yml
	$(BIN) lab check

bench: build
	./bench/run.sh

clean:
	rm -rf bin
