# The two commands of the README: `make run` and `make test`.
SWIFT ?= swift

.PHONY: run test build deps check clean bench fuzz

## run: install what is missing, build, and start the connector (with the simulator when no token is set)
run: deps
	@bash scripts/run.sh

## test: unit and integration tests (real redis-server, the simulator, the services as processes)
test: deps build
	$(SWIFT) test --skip-build

build:
	$(SWIFT) build --build-tests

deps:
	@bash scripts/install-deps.sh

## bench: release build, then the benchmark; writes BENCHMARKS.md
## (the services linked as the Dockerfile links them: --static-swift-stdlib)
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --product ConnectorBench
	for product in Ingest Dispatcher Replier DiscordSimulator; do $(SWIFT) build -c release --static-swift-stdlib --product $$product || exit 1; done
	.build/release/ConnectorBench --output BENCHMARKS.md

## fuzz: libFuzzer over the parsers that take outside input (1,000,000 inputs)
fuzz:
	bash Fuzz/run.sh

## check: validate the configuration the services would use, without connecting
check:
	$(SWIFT) build --product Ingest
	.build/debug/Ingest --check

clean:
	rm -rf .build run
