#!/usr/bin/env bash
# Offline checks of the deployment template, infra/template.yaml (needs no AWS account
# or credentials): cfn-lint, checkov (zero failed checks; the skips in the template each
# say why), `sam validate --lint`, and infra/check_template.py, which checks this
# service's own rules on the template after the SAM transform (authorizer on every route
# but /healthz, no plain-text secrets, the IAM actions the DynamoDB store really calls).
# Installs pinned tools into .venv-infra/ (scripts/requirements-{infra,checkov}.txt).
# scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/infra-venv.sh

infra_venv sam scripts/requirements-infra.txt
infra_venv checkov scripts/requirements-checkov.txt

# SAM CLI wants a region even offline; no telemetry, and checkov must not fetch its
# guideline mapping from the network (none here, and none needed).
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0 BC_SKIP_MAPPING=TRUE
template=infra/template.yaml

echo "-- cfn-lint $(.venv-infra/sam/bin/cfn-lint --version | cut -d' ' -f2)"
.venv-infra/sam/bin/cfn-lint "$template"

echo "-- checkov $(.venv-infra/checkov/bin/checkov --version)"
.venv-infra/checkov/bin/checkov -f "$template" --framework cloudformation --skip-download \
  --compact --quiet

echo "-- sam validate --lint"
.venv-infra/sam/bin/sam validate --lint -t "$template"

echo "-- the service's rules (infra/check_template.py)"
.venv-infra/sam/bin/python infra/check_template.py
