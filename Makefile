# The two commands of the README: `make run` and `make test`.
SWIFT ?= swift

.PHONY: run test build deps check clean

## run: install what is missing, build, and start the connector (with the simulator when no token is set)
run: deps
	@bash scripts/run.sh

## test: unit and integration tests (real redis-server, the simulator, the services as processes)
test: build
	$(SWIFT) test --skip-build

build:
	$(SWIFT) build --build-tests

deps:
	@bash scripts/install-deps.sh

## check: validate the configuration the services would use, without connecting
check:
	$(SWIFT) build --product Ingest
	.build/debug/Ingest --check

clean:
	rm -rf .build run
