#!/usr/bin/env bash
# Builds the web app into web/dist, offline and reproducibly: the wasm32 target through
# rustup, the crate with the pinned wasm-bindgen, and the bindings with web/bindgen (the
# pinned wasm-bindgen-cli-support, with its own Cargo.lock). Prints the .wasm size, raw
# and gzip'd. No wasm-opt: Debian 12's binaryen (108) breaks the externref table that
# today's rustc and wasm-bindgen emit (the module then fails to start) at every
# optimization level tried; the profile (opt-level "s", LTO) keeps it small.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build --locked -p catalog-snapshot-web --lib --target wasm32-unknown-unknown --profile wasm-release
cargo build --locked --release --manifest-path web/bindgen/Cargo.toml --target-dir target/bindgen

out=web/dist.tmp
rm -rf "$out"
mkdir -p "$out"
target/bindgen/release/catalog-snapshot-bindgen \
  target/wasm32-unknown-unknown/wasm-release/catalog_snapshot_web.wasm "$out"
cp web/static/* "$out/"
# Precompressed copies, served to browsers that accept gzip.
for f in "$out/catalog_snapshot_web_bg.wasm" "$out/catalog_snapshot_web.js" "$out/style.css" "$out/index.html"; do
  gzip -9 -n -k "$f"
done
rm -rf web/dist
mv "$out" web/dist
printf 'web/dist built: catalog_snapshot_web_bg.wasm %s bytes, %s bytes gzip\n' \
  "$(stat -c %s web/dist/catalog_snapshot_web_bg.wasm)" "$(stat -c %s web/dist/catalog_snapshot_web_bg.wasm.gz)"
