# The two set-up commands of the README:
#   make demo   installs what is missing, builds everything, trains on the default corpus, samples
#   make test   installs what is missing, builds everything, runs the whole test suite
SWIFT ?= swift
CONFIG ?= release

.PHONY: deps build demo test readme clean

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

demo: build
	$(SWIFT) run -c $(CONFIG) autoglm train --config examples/demo.yaml
	$(SWIFT) run -c $(CONFIG) autoglm sample --run runs/demo --prompt "Q:" --tokens 300

test: build
	$(SWIFT) test -c $(CONFIG)

# Regenerates README.md's config reference from the key table (a test checks it is current).
readme: build
	./scripts/update-readme.sh .build/$(CONFIG)/autoglm

clean:
	rm -rf .build runs
