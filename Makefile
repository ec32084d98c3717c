# Lathe: `make demo` runs a cross-validation on a bundled dataset, `make test` runs the tests.
# Both first install the Debian packages Lathe links against when they are missing.

SWIFT ?= swift
APT_PACKAGES := liblapacke-dev libopenblas-dev pkg-config zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build demo test bench clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product lathe

demo: build
	.build/release/lathe cv diabetes --model ridge
	.build/release/lathe cv sms_spam --model svm
	.build/release/lathe train sms_spam --model logreg --out .build/spam.lathe
	printf 'WINNER!! Claim your free prize now, call 09061701461\nare we still meeting for lunch tomorrow?\n' | .build/release/lathe predict .build/spam.lathe --json

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	bash Tests/Interop/run.sh .build/debug/lathe

bench: deps
	bash Benchmarks/run.sh

clean:
	rm -rf .build
