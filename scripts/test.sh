#!/usr/bin/env bash
# The project's one test command (README.md; .ci/run calls it): formatting,
# lints, and every test of the workspace, with the `skillmesh` binary the
# end-to-end tests start.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests (tests/e2e/web_*.rs) drive Debian's Chromium over
# WebDriver. Install it and its driver from Debian when missing; no tool
# may download a browser or driver of its own.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    echo "Installing Debian's chromium and chromium-driver for the browser tests..."
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        sudo=(sudo)
    fi
    apt_log="$(mktemp)"
    if ! {
        "${sudo[@]}" apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends chromium chromium-driver
    } >"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        echo "error: could not install chromium and chromium-driver with apt-get;" \
            "the browser tests need /usr/bin/chromium and /usr/bin/chromedriver" >&2
        rm -f "$apt_log"
        exit 1
    fi
    rm -f "$apt_log"
    if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
        echo "error: apt-get installed chromium and chromium-driver, but" \
            "/usr/bin/chromium or /usr/bin/chromedriver is still missing" >&2
        exit 1
    fi
fi

# The single sign-on tests (tests/e2e/web_sso.rs) start a real OpenID
# provider, panva's oidc-provider for Node.js (tests/oidc). Install Node.js
# from Debian when missing, and the provider from the npm registry at the
# versions package-lock.json pins.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Installing Debian's nodejs and npm for the single sign-on tests..."
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends nodejs npm >/dev/null
fi
if [[ ! -d tests/oidc/node_modules/oidc-provider ||
    tests/oidc/package-lock.json -nt tests/oidc/node_modules/.package-lock.json ]]; then
    npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
fi

cargo fmt --all -- --check

# Clippy with every warning denied, on every target (benches too), while
# the tests build: see scripts/clippy-rustc. The same as
# `cargo clippy --workspace --all-targets -- -D warnings`, which also
# denies `Service::store_for_tests` outside tests and benches
# (clippy.toml), without building the dependencies twice.
export RUSTC_WORKSPACE_WRAPPER="$PWD/scripts/clippy-rustc"
cargo test --workspace --all-targets --locked --no-run

# Every test. The `skillmesh` binary the end-to-end tests start is built
# above with them (the node's integration tests need it), with the same
# features: a separate `cargo build --bins` built most dependencies again
# with other features.
cargo test --workspace --locked
