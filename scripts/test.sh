#!/usr/bin/env bash
# The project's one test command (README.md; .ci/run calls it): formatting,
# lints, a build of the `skillmesh` binary the end-to-end tests start, and
# every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --bins --locked
cargo test --workspace --locked
