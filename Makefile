# Developer entry points. CI runs .ci/run, which calls `make test`.
.PHONY: dev run test test-postgres e2e lint doctor bench bench-http schemathesis

dev: ## run the server from a debug build, data in ./data
	cargo run --bin consailt -- serve

run: ## run the server from a release build
	cargo run --release --bin consailt -- serve

test: ## Schemathesis against the running API, every test of the workspace (on SQLite, then on PostgreSQL), then the browser journey
	@command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
	bash scripts/schemathesis
	cargo nextest run --workspace
	bash scripts/test-postgres
	bash tests/e2e/run

test-postgres: ## the test suite on PostgreSQL (CONSAILT_TEST_DATABASE_URL, default the local server)
	bash scripts/test-postgres

e2e: ## the web UI's journey in Debian's Chromium (screenshots in target/e2e/)
	bash tests/e2e/run

schemathesis: ## fuzz the API against its OpenAPI document (EXAMPLES=n per operation)
	bash scripts/schemathesis $(EXAMPLES)

lint: ## formatting and clippy, as CI checks them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

doctor: ## what the toolchain and optional pieces look like here, and how to fix gaps
	@bash scripts/doctor

bench: ## benchmarks against PostgreSQL and the sqlite3 tool (several minutes)
	bash bench/run.sh

bench-http: ## the REST API next to PocketBase (about ten minutes; needs wrk)
	bash bench/http.sh
