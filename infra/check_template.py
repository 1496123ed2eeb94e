"""Checks what infra/template.yaml promises, on the template as CloudFormation will see it.

cfn-lint, checkov and `sam validate --lint` check that the template is well formed and
follows general rules; this checks the rules of this service, after the SAM transform
(run here, offline, with the SAM translator that aws-sam-cli installs):

- every API route but GET /healthz is behind the JWT authorizer, and routes are per
  method (no ANY), so API Gateway answers CORS preflight before the authorizer;
- the function is arm64 on provided.al2023 (cfn-lint does not catch a mistyped runtime),
  its timeout is under the HTTP API's 30 s and REQUEST_TIMEOUT_MS under its timeout;
- the environment requires auth, refuses raw URLs, has an allowlist, and names secrets
  by ARN only (no plain CONNECTION_KEY_SECRET, TARGET_CONNECTIONS or APP_DATABASE_URL);
- the role's DynamoDB actions are exactly those src/store/dynamodb.rs calls (outside
  the emulator-only create_table_if_missing), on the table only; GetSecretValue only on
  the secrets; the VPC policy only in a VPC.

Run by scripts/check-infra.sh with the sam venv's Python: python infra/check_template.py
"""

import copy
import json
import re
import sys
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "infra" / "template.yaml"
STORE = ROOT / "src" / "store" / "dynamodb.rs"

PARAMS = {
    "AllowedOrigin": "https://erd.example.com",
    "JwtIssuer": "https://issuer.example.com",
    "JwtAudience": "catalog-snapshot",
    "TargetConnectionsSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:targets-AbCdEf",
    "TargetAllowedHosts": "*.abc.us-east-1.rds.amazonaws.com",
}

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


class NoManagedPolicies:
    """The template names managed policies by ARN, so nothing needs looking up."""

    def load(self):
        return {}


def translated(params):
    template = yaml_parse(TEMPLATE.read_text())
    # `sam package` replaces the local CodeUri with the uploaded artifact's S3 URI; the
    # translator accepts only the latter.
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            check(res["Properties"].get("CodeUri") == "../", "CodeUri is not the repo root ../")
            res["Properties"]["CodeUri"] = "s3://bucket/catalog-snapshot.zip"
    return transform(copy.deepcopy(template), params, NoManagedPolicies())


def camel_ops(snake_names):
    return {"dynamodb:" + "".join(p.capitalize() for p in n.split("_")) for n in snake_names}


def dynamodb_ops_in_code():
    src = STORE.read_text()
    # Leave out create_table_if_missing (emulator only: the deployed table comes from
    # the template): from its signature to the end of its body at method indentation.
    start = src.index("pub async fn create_table_if_missing")
    end = src.index("\n    }\n", start)
    src = src[:start] + src[end:]
    return camel_ops(set(re.findall(r"client(?:\(\))?\s*\.(\w+)\(\)", src)))


def resources_of(t, type_):
    return {k: v for k, v in t["Resources"].items() if v["Type"] == type_}


def statements(role):
    for policy in role.get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            yield st


def as_list(x):
    return x if isinstance(x, list) else [x]


def main():
    t = translated(PARAMS)

    # Routes and the authorizer.
    routes = resources_of(t, "AWS::ApiGatewayV2::Route")
    api = next(iter(resources_of(t, "AWS::ApiGatewayV2::Api").values()), None)
    body = (api or {}).get("Properties", {}).get("Body", {})
    paths = body.get("paths", {})
    ops = {(p, m.upper()): op for p, methods in paths.items() for m, op in methods.items()}
    check(not routes, "routes are expected in the API's OpenAPI body, not as Route resources")
    expected = {
        ("/api/v1/introspect/postgres/snapshot", "POST"),
        ("/api/v1/introspect/postgres/diff", "POST"),
        ("/api/v1/introspect/postgres/history", "POST"),
        ("/healthz", "GET"),
    }
    check(set(ops) == expected, f"API routes are {sorted(ops)}, expected {sorted(expected)}")
    check(not any(m in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") for _, m in ops),
          "an ANY route would send CORS preflight to the authorizer")
    for (path, method), op in ops.items():
        schemes = {k for s in op.get("security", []) for k in s}
        if path == "/healthz":
            check(schemes <= {"NONE"}, f"GET /healthz should need no token, has {schemes}")
        else:
            check(schemes == {"JwtAuthorizer"},
                  f"{method} {path} is not behind the JWT authorizer (security {schemes})")
    cors = body.get("x-amazon-apigateway-cors", {})
    check(cors.get("allowOrigins") == [PARAMS["AllowedOrigin"]],
          f"CORS allows {cors.get('allowOrigins')}, expected only the web app's origin")
    auth = body.get("components", {}).get("securitySchemes", {}).get("JwtAuthorizer", {})
    jwt = auth.get("x-amazon-apigateway-authorizer", {}).get("jwtConfiguration", {})
    check(jwt.get("issuer") == {"Ref": "JwtIssuer"}, f"JWT issuer is {jwt.get('issuer')}")
    check(jwt.get("audience") == {"Ref": "JwtAudience"}, f"JWT audience is {jwt.get('audience')}")
    check(auth.get("x-amazon-apigateway-authorizer", {}).get("identitySource")
          == "$request.header.Authorization", "the token is not read from Authorization")

    # The function.
    fns = resources_of(t, "AWS::Lambda::Function")
    check(len(fns) == 1, f"expected one function, got {list(fns)}")
    fn = next(iter(fns.values()))["Properties"]
    check(fn.get("Runtime") == "provided.al2023", f"Runtime is {fn.get('Runtime')}")
    check(fn.get("Architectures") == ["arm64"], f"Architectures are {fn.get('Architectures')}")
    check(fn.get("Handler") == "bootstrap", f"Handler is {fn.get('Handler')}")
    timeout = fn.get("Timeout", 3)
    check(timeout < 30, f"Timeout {timeout} s is not under the HTTP API's 30 s")
    env = fn["Environment"]["Variables"]
    check(int(env.get("REQUEST_TIMEOUT_MS", "28000")) < timeout * 1000,
          "REQUEST_TIMEOUT_MS is not under the function's timeout")
    check(env.get("REQUIRE_AUTH") == "true", "REQUIRE_AUTH is not true")
    check(env.get("ALLOW_RAW_DATABASE_URL") == "false", "ALLOW_RAW_DATABASE_URL is not false")
    check(env.get("SNAPSHOT_STORE") == "dynamodb", "SNAPSHOT_STORE is not dynamodb")
    check(bool(env.get("TARGET_ALLOWED_HOSTS")), "TARGET_ALLOWED_HOSTS is not set")
    for name in ("CONNECTION_KEY_SECRET", "TARGET_CONNECTIONS", "APP_DATABASE_URL"):
        check(name not in env, f"{name} is in the environment in plain text")
    check("CONNECTION_KEY_SECRET_ARN" in env and "TARGET_CONNECTIONS_SECRET_ARN" in env,
          "the secrets' ARNs are not passed")
    check("ReservedConcurrentExecutions" in fn, "no reserved concurrency")
    check("VpcConfig" not in fn or fn["VpcConfig"].get("Fn::If", [None])[0] == "InVpc",
          "VpcConfig is not conditional on InVpc")

    # The role.
    roles = resources_of(t, "AWS::IAM::Role")
    check(len(roles) == 1, f"expected one role, got {list(roles)}")
    role = next(iter(roles.values()))["Properties"]
    granted_ddb = set()
    for st in statements(role):
        check(st["Effect"] == "Allow", "a Deny statement was not expected")
        actions = as_list(st["Action"])
        resources = as_list(st["Resource"])
        check(not any("*" == a or a.endswith(":*") for a in actions), f"wildcard action in {actions}")
        check("*" not in resources, f"a statement grants {actions} on every resource")
        ddb = {a for a in actions if a.startswith("dynamodb:")}
        if ddb:
            granted_ddb |= ddb
            check(resources == [{"Fn::GetAtt": ["SnapshotTable", "Arn"]}],
                  f"DynamoDB actions are granted on {resources}, not on the table only")
        if "secretsmanager:GetSecretValue" in actions:
            check(actions == ["secretsmanager:GetSecretValue"], f"extra secrets actions {actions}")
            check(len(resources) == 2, f"GetSecretValue on {resources}")
    used = dynamodb_ops_in_code()
    check(granted_ddb == used,
          f"DynamoDB actions granted {sorted(granted_ddb)} but src/store/dynamodb.rs calls {sorted(used)}")
    managed = role.get("ManagedPolicyArns", {})
    check(isinstance(managed, dict) and managed.get("Fn::If", [None])[0] == "InVpc",
          "managed policies (VPC access) are not conditional on InVpc")

    # The table.
    table = t["Resources"]["SnapshotTable"]["Properties"]
    check(table.get("BillingMode") == "PAY_PER_REQUEST", "table is not on demand")
    check(table.get("TimeToLiveSpecification") == {"AttributeName": "expiresAt", "Enabled": True},
          "TTL is not on expiresAt")
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    check(keys == {"pk": "HASH", "sk": "RANGE"}, f"table keys are {keys}")

    # Template text: no secret value can hide in it.
    text = TEMPLATE.read_text()
    check(not re.search(r"postgres(ql)?://[^\s\"'@/]+:[^\s\"'@/]*@", text),
          "a database URL with a password is written in the template")

    if failures:
        for f in failures:
            print(f"check_template: FAIL: {f}")
        sys.exit(1)
    print(f"check_template: ok ({len(ops)} routes, DynamoDB actions {sorted(used)})")


if __name__ == "__main__":
    main()
