#!/usr/bin/env bash
# Builds the Lambda function for infra/template.yaml: arm64, provided.al2023, from this
# repo's Rust code, cross-compiled here (cargo-lambda links with zig; no Docker).
#
#   scripts/package.sh          sam build: .aws-sam/build/ (template + bootstrap), then
#                               `sam deploy --guided` deploys it (README "Deploy")
#   scripts/package.sh --zip    cargo lambda build only: a bootstrap.zip under
#                               $CARGO_TARGET_DIR (default target/)/lambda/catalog-snapshot/
#   scripts/package.sh --tools  install the tools only (for `cargo lambda watch`)
#
# Installs cargo-lambda and the SAM CLI into .venv-infra/ (pinned in
# scripts/requirements-{lambda,infra}.txt) and the aarch64 Rust target through rustup.
# Not part of scripts/test.sh: a release arm64 build takes minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/infra-venv.sh

infra_venv lambda scripts/requirements-lambda.txt
export PATH="$PWD/.venv-infra/lambda/bin:$PATH"
started=$SECONDS

case "${1:-}" in
  --tools)
    infra_venv sam scripts/requirements-infra.txt
    echo "cargo-lambda: .venv-infra/lambda/bin; SAM CLI: .venv-infra/sam/bin/sam"
    exit 0
    ;;
  --zip)
    cargo lambda build --release --arm64 --bin catalog-snapshot --output-format zip
    ls -l "${CARGO_TARGET_DIR:-target}/lambda/catalog-snapshot/"
    ;;
  "")
    infra_venv sam scripts/requirements-infra.txt
    export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0
    # rust-cargolambda is a SAM CLI beta build method: --beta-features opts in.
    .venv-infra/sam/bin/sam build -t infra/template.yaml --beta-features
    ls -l .aws-sam/build/SnapshotFunction/
    ;;
  *)
    echo "usage: scripts/package.sh [--zip | --tools]" >&2
    exit 2
    ;;
esac
echo "built in $((SECONDS - started)) s"
