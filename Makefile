# ferry's developer entry points. `make test` is what CI runs.
GO       ?= go
BIN      := bin/ferry
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: build test unit e2e e2e-vagrant lint demo lab-prereqs vagrant-prereqs test-prereqs ansible-oracle bench bench-inventory fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ferry

# Lint (gofmt, vet, staticcheck), unit tests with the race detector, a few
# seconds of each fuzz target, then (as root on Linux) the lab's end-to-end
# tests; without root the e2e suite says it was skipped.
test: build lint ansible-oracle test-prereqs unit fuzz e2e e2e-vagrant

unit:
	$(GO) test -race -count=1 -timeout 30m ./...
	# check mode's property test at full size (10,000 random roles), without -race
	FERRY_CHECK_CASES=10000 $(GO) test -count=1 -timeout 60m -run '^TestCheckModeProperty$$' ./runner/

# The package installs sit on a line of their own: make runs a line that
# names $(MAKE) even under -n, and must not start the suite then.
e2e: build
	@if [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ]; then $(MAKE) --no-print-directory lab-prereqs; fi
	@if [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ]; then \
		$(GO) test -tags e2e -count=1 -timeout 45m -v ./lab/e2e/ ; \
	else \
		echo "e2e: skipped: the lab needs root on Linux (run 'sudo make e2e')"; \
	fi

# The Vagrant lab's end-to-end test: two real VMs (libvirt; KVM or qemu
# emulation), the local box built or reused, deploy, HTTPS through the load
# balancer, idempotence, then lab down and a leak check.
e2e-vagrant: build
	@if [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ]; then $(MAKE) --no-print-directory vagrant-prereqs; fi
	@if [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ]; then \
		$(GO) test -tags e2e -count=1 -timeout 45m -v ./lab/e2e/vagrant/ ; \
	else \
		echo "e2e-vagrant: skipped: the Vagrant lab needs root on Linux (run 'sudo make e2e-vagrant')"; \
	fi

# Each fuzz target runs briefly; crashes land in testdata/fuzz as regressions.
# A count, not a duration: Go 1.26's fuzz coordinator can fail a target with
# a bare "context deadline exceeded" when a duration ends under load
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x
fuzz:
	@grep -rl --include='*_test.go' '^func Fuzz' . | while read f; do \
		dir=$$(dirname $$f); \
		for fn in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "fuzz $$dir $$fn"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags e2e ./lab/e2e/...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags e2e ./lab/e2e/...

# The lab's prerequisites, installed only when one is missing.
# apt-utils, gpg, gpg-agent: the apt_source e2e test builds a signed repository.
LAB_PACKAGES := debootstrap systemd-container iproute2 nginx-light openssh-client curl apt-utils gpg gpg-agent
lab-prereqs:
	@missing=""; for p in $(LAB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# ansible-core (Debian's), whose ansible-inventory the inventory tests
# compare ferry with; without it they say they were skipped.
# make test installs it when run as root (as it installs the lab's packages).
ansible-oracle:
	@command -v ansible-inventory >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ansible-core; }

# The Vagrant lab's prerequisites (Debian 12), installed only when missing.
VAGRANT_PACKAGES := vagrant vagrant-libvirt libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils dnsmasq-base iptables e2fsprogs
vagrant-prereqs: lab-prereqs
	@missing=""; for p in $(VAGRANT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# What the unit tests of the operator commands drive: a real terminal
# (tmux) and bash's completion (bash-completion).
TEST_PACKAGES := tmux bash-completion
test-prereqs:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Lab up, the whole stack deployed, its health shown, and one request
# through the floating address with the lab CA.
demo: build lab-prereqs
	$(BIN) lab up
	$(BIN) deploy -i lab/inventory.yml
	$(BIN) status -i lab/inventory.yml
	@curl -fsS --cacert lab/.ferry/pki/ca.crt --resolve www.ferry.test:443:198.18.0.10 \
		-o /dev/null -w 'https://www.ferry.test/ answered %{http_code}, served by ' https://www.ferry.test/ && \
		curl -fsS --cacert lab/.ferry/pki/ca.crt --resolve www.ferry.test:443:198.18.0.10 -D - -o /dev/null https://www.ferry.test/ | grep -i '^x-served-by' | cut -d' ' -f2
	@echo
	@echo "The site: https://www.ferry.test/ on 198.18.0.10 (the floating address held by lb-01 or lb-02)."
	@echo "  curl --cacert lab/.ferry/pki/ca.crt --resolve www.ferry.test:443:198.18.0.10 https://www.ferry.test/"
	@echo "Prometheus: ferry lab ssh monitor-01 -- curl -s localhost:9090/api/v1/alerts"
	@echo "Try: bin/ferry deploy -i lab/inventory.yml --check --diff    Done: bin/ferry lab down"

bench: build
	./bench/run.sh

# Resolving a 10,000-host inventory: ferry, and ansible-inventory if present.
bench-inventory:
	./bench/inventory.sh

clean:
	rm -rf bin
