//! Who is calling: the identity API Gateway's authorizer put in the request context
//! (JWT claims, or a Lambda authorizer's context), and the workspace scoping rule.
//!
//! Owns one rule: a caller with a workspace claim reads and writes only that workspace
//! (the workspace is part of every connection key, so other workspaces' snapshots are
//! unreachable); with `REQUIRE_AUTH`, a request without one is refused. It must never
//! trust a workspace named in the body over the authorizer's.

use crate::config::Config;
use crate::error::ApiError;
use lambda_http::request::RequestContext;
use std::collections::HashMap;

/// The caller as the authorizer describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub subject: Option<String>,
    pub workspace: Option<String>,
}

fn from_claims(claims: &HashMap<String, String>, workspace_claim: &str) -> Caller {
    Caller {
        subject: claims.get("sub").cloned(),
        workspace: claims
            .get(workspace_claim)
            .filter(|w| !w.is_empty())
            .cloned(),
    }
}

fn from_fields(fields: &HashMap<String, serde_json::Value>, workspace_claim: &str) -> Caller {
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Caller {
        subject: text("sub").or_else(|| text("principalId")),
        workspace: text(workspace_claim),
    }
}

/// The caller of a request, when an authorizer ran (under API Gateway); `None` locally.
pub fn caller(context: Option<&RequestContext>, workspace_claim: &str) -> Option<Caller> {
    let authorizer = match context? {
        RequestContext::ApiGatewayV2(ctx) => ctx.authorizer.as_ref()?,
        RequestContext::ApiGatewayV1(ctx) => &ctx.authorizer,
        _ => return None,
    };
    if let Some(jwt) = &authorizer.jwt {
        if !jwt.claims.is_empty() {
            return Some(from_claims(&jwt.claims, workspace_claim));
        }
    }
    (!authorizer.fields.is_empty()).then(|| from_fields(&authorizer.fields, workspace_claim))
}

/// The workspace a request acts in: the caller's, which a body `workspaceId` may repeat
/// but not contradict; without a caller, the body's (local development) unless
/// `REQUIRE_AUTH` is set.
pub fn scope_workspace(
    cfg: &Config,
    caller: Option<&Caller>,
    requested: Option<String>,
) -> Result<Option<String>, ApiError> {
    match caller.and_then(|c| c.workspace.clone()) {
        Some(own) => match requested {
            Some(other) if other != own => Err(ApiError::Forbidden(
                "workspaceId does not match the caller's workspace".into(),
            )),
            _ => Ok(Some(own)),
        },
        None if cfg.require_auth => Err(if caller.is_some() {
            ApiError::Forbidden(format!(
                "the caller's token has no {:?} claim naming its workspace",
                cfg.workspace_claim
            ))
        } else {
            ApiError::Unauthorized("this service requires an authorized caller".into())
        }),
        None => Ok(requested),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(require: bool) -> Config {
        let mut c = Config::from_lookup(&|_| None).unwrap();
        c.require_auth = require;
        c
    }

    fn ctx(claims: serde_json::Value) -> RequestContext {
        serde_json::from_value(serde_json::json!({
            "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "x"},
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t", "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": claims, "scopes": null}}
        }))
        .unwrap()
    }

    #[test]
    fn reads_jwt_claims() {
        let c = ctx(serde_json::json!({"sub": "u1", "workspace_id": "ws-a"}));
        let caller = caller(Some(&c), "workspace_id").unwrap();
        assert_eq!(caller.subject.as_deref(), Some("u1"));
        assert_eq!(caller.workspace.as_deref(), Some("ws-a"));
        assert!(super::caller(None, "workspace_id").is_none());
    }

    #[test]
    fn the_callers_workspace_wins_and_cannot_be_contradicted() {
        let me = Caller {
            subject: Some("u".into()),
            workspace: Some("ws-a".into()),
        };
        assert_eq!(
            scope_workspace(&cfg(true), Some(&me), None).unwrap(),
            Some("ws-a".into())
        );
        assert_eq!(
            scope_workspace(&cfg(true), Some(&me), Some("ws-a".into())).unwrap(),
            Some("ws-a".into())
        );
        assert!(matches!(
            scope_workspace(&cfg(false), Some(&me), Some("ws-b".into())),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn require_auth_refuses_anonymous_and_claimless_callers() {
        assert!(matches!(
            scope_workspace(&cfg(true), None, None),
            Err(ApiError::Unauthorized(_))
        ));
        let no_ws = Caller::default();
        assert!(matches!(
            scope_workspace(&cfg(true), Some(&no_ws), None),
            Err(ApiError::Forbidden(_))
        ));
        assert_eq!(
            scope_workspace(&cfg(false), None, Some("w".into())).unwrap(),
            Some("w".into())
        );
    }
}
