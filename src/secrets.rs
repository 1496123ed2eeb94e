//! Secrets read from AWS Secrets Manager at start, so a deployment never carries them in
//! plain text (not in the template, not as resolved environment variables).
//!
//! Owns one step of startup: for each of [`SECRET_VARS`] (`CONNECTION_KEY_SECRET`,
//! `APP_DATABASE_URL`, `TARGET_CONNECTIONS`), when its ARN variable
//! (`CONNECTION_KEY_SECRET_ARN`, `APP_DATABASE_URL_SECRET_ARN`,
//! `TARGET_CONNECTIONS_SECRET_ARN`) is set it fetches
//! that secret's `SecretString` (`GetSecretValue`, all of them concurrently, bounded by
//! `SECRETS_TIMEOUT_MS`) and returns the values as an overlay that `main.rs` lays over the
//! environment before [`crate::config::Config::from_lookup`] parses it. Setting both a
//! variable and its ARN variable is refused as ambiguous. The endpoint is
//! `SECRETS_ENDPOINT_URL`, else `AWS_ENDPOINT_URL` (an emulator), else AWS in the region
//! the ARN names.
//!
//! It must never log, print, format into an error or otherwise reveal a secret value: an
//! error names the variable and the ARN only, [`Fetched`]'s `Debug` lists names only, and
//! nothing here calls `tracing` with a value.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use std::collections::BTreeMap;
use std::time::Duration;

/// The variables that may come from Secrets Manager, each with the variable that names
/// its secret's ARN.
pub const SECRET_VARS: [(&str, &str); 3] = [
    ("CONNECTION_KEY_SECRET", "CONNECTION_KEY_SECRET_ARN"),
    ("APP_DATABASE_URL", "APP_DATABASE_URL_SECRET_ARN"),
    ("TARGET_CONNECTIONS", "TARGET_CONNECTIONS_SECRET_ARN"),
];

/// `SECRETS_TIMEOUT_MS` default: all fetches together, well inside Lambda's 10 s init.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Values fetched from Secrets Manager, by variable name. Its `Debug` shows the names
/// only.
#[derive(Default, Clone)]
pub struct Fetched(BTreeMap<String, String>);

impl Fetched {
    /// The fetched value of `name`, if it was fetched.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// The names of the variables that were fetched (for the startup log).
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One secret to fetch: the variable it fills and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    name: &'static str,
    arn_var: &'static str,
    arn: String,
}

fn non_empty(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The secrets the environment asks for, or an error when one is asked for twice.
fn wanted(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Wanted>, String> {
    let mut out = Vec::new();
    for (name, arn_var) in SECRET_VARS {
        let Some(arn) = non_empty(lookup, arn_var) else {
            continue;
        };
        if non_empty(lookup, name).is_some() {
            return Err(format!(
                "both {name} and {arn_var} are set: set only one (the secret's ARN in a deployment)"
            ));
        }
        out.push(Wanted { name, arn_var, arn });
    }
    Ok(out)
}

/// The region in a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`),
/// or `None` for a plain secret name.
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("secretsmanager"), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (!region.is_empty()).then_some(region)
}

fn timeout(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Duration, String> {
    match non_empty(lookup, "SECRETS_TIMEOUT_MS") {
        None => Ok(DEFAULT_TIMEOUT),
        Some(v) => match v.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(format!(
                "SECRETS_TIMEOUT_MS must be a positive number of milliseconds, got {v:?}"
            )),
        },
    }
}

/// Fetches every secret the environment (`lookup`) names by ARN. Returns an empty
/// overlay, without touching the network, when none is named.
pub async fn fetch(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Fetched, String> {
    let wanted = wanted(lookup)?;
    if wanted.is_empty() {
        return Ok(Fetched::default());
    }
    let limit = timeout(lookup)?;
    let endpoint =
        non_empty(lookup, "SECRETS_ENDPOINT_URL").or_else(|| non_empty(lookup, "AWS_ENDPOINT_URL"));
    let attempt = (limit / 2).max(Duration::from_millis(500)).min(limit);
    let base = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(500)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(attempt)
                .operation_attempt_timeout(attempt)
                .operation_timeout(limit)
                .build(),
        );
    let base = match &endpoint {
        Some(url) => base.endpoint_url(url),
        None => base,
    };
    // With every secret named by full ARN the region is known: skip the provider chain's
    // region lookup (which off AWS may wait on the instance metadata service).
    let base = match wanted
        .iter()
        .map(|w| arn_region(&w.arn))
        .collect::<Option<Vec<_>>>()
    {
        Some(regions) if !regions.is_empty() => base.region(Region::new(regions[0].to_string())),
        _ => base,
    };
    let sdk = match tokio::time::timeout(limit, base.load()).await {
        Ok(sdk) => sdk,
        Err(_) => return Err(timed_out(&wanted[0], limit)),
    };
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let fetches = wanted.iter().map(|w| {
        let client = client.clone();
        let sdk_region = sdk.region().cloned();
        async move {
            // A full ARN names its region; the call must go there, whatever AWS_REGION
            // says. A plain name uses the default region.
            let region = arn_region(&w.arn)
                .map(|r| Region::new(r.to_string()))
                .or(sdk_region);
            let Some(region) = region else {
                return Err(format!(
                    "{} ({}): no AWS region: give the secret's full ARN or set AWS_REGION",
                    w.arn_var, w.arn
                ));
            };
            let call = client
                .get_secret_value()
                .secret_id(&w.arn)
                .customize()
                .config_override(aws_sdk_secretsmanager::config::Builder::default().region(region))
                .send();
            let out = match tokio::time::timeout(limit, call).await {
                Err(_) => return Err(timed_out(w, limit)),
                Ok(Err(e)) => return Err(describe_error(w, limit, &e)),
                Ok(Ok(out)) => out,
            };
            match out.secret_string() {
                Some(s) if !s.trim().is_empty() => Ok((w.name.to_string(), s.to_string())),
                Some(_) => Err(format!(
                    "{} ({}): the secret's SecretString is empty",
                    w.arn_var, w.arn
                )),
                None => Err(format!(
                    "{} ({}): the secret has no SecretString (a binary secret is not supported)",
                    w.arn_var, w.arn
                )),
            }
        }
    });
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for result in futures::future::join_all(fetches).await {
        match result {
            Ok((name, value)) => {
                values.insert(name, value);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Fetched(values))
    } else {
        Err(format!(
            "cannot read from Secrets Manager: {}",
            errors.join("; ")
        ))
    }
}

fn timed_out(w: &Wanted, limit: Duration) -> String {
    format!(
        "{} ({}): no answer from Secrets Manager within {} ms (SECRETS_TIMEOUT_MS); from a VPC \
         without a NAT gateway, add a secretsmanager interface endpoint",
        w.arn_var,
        w.arn,
        limit.as_millis()
    )
}

/// An error naming the variable, the ARN and what went wrong; never a value (a failed
/// `GetSecretValue` carries none).
fn describe_error<E, R>(w: &Wanted, limit: Duration, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::TimeoutError(_) => return timed_out(w, limit),
        SdkError::DispatchFailure(d) if d.is_timeout() => return timed_out(w, limit),
        _ => {}
    }
    let what = match e.code() {
        Some("ResourceNotFoundException") => "no such secret (check the ARN and its region)",
        Some("AccessDeniedException") => {
            "access denied (the function's role needs secretsmanager:GetSecretValue on it, \
             and kms:Decrypt when it is encrypted with a customer managed key)"
        }
        Some("DecryptionFailure") => "the secret cannot be decrypted with its KMS key",
        Some("InvalidRequestException") => {
            "the secret is not readable (deleted, or scheduled for deletion?)"
        }
        _ => "",
    };
    // The code and message of a service error, else the error's chain of causes; never
    // the raw response (`DisplayErrorContext` would print it whole).
    let detail = match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text.push_str(": ");
                text.push_str(&c.to_string());
                cause = c.source();
            }
            text
        }
    };
    if what.is_empty() {
        format!("{} ({}): {detail}", w.arn_var, w.arn)
    } else {
        format!("{} ({}): {what}: {detail}", w.arn_var, w.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn arns_name_their_region() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:targets-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x"),
            Some("us-gov-west-1")
        );
        assert_eq!(arn_region("catalog-snapshot/targets"), None);
        assert_eq!(arn_region("arn:aws:ssm:eu-west-1:1:parameter/x"), None);
    }

    #[test]
    fn only_variables_named_by_arn_are_wanted() {
        let l = lookup(&[
            ("CONNECTION_KEY_SECRET", "set-directly-0123456789"),
            (
                "TARGET_CONNECTIONS_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:t",
            ),
            ("APP_DATABASE_URL_SECRET_ARN", "  "),
        ]);
        let w = wanted(&l).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, "TARGET_CONNECTIONS");
        assert_eq!(w[0].arn_var, "TARGET_CONNECTIONS_SECRET_ARN");
    }

    #[test]
    fn a_value_and_its_arn_together_are_refused_without_showing_the_value() {
        let l = lookup(&[
            ("CONNECTION_KEY_SECRET", "do-not-print-this-value"),
            (
                "CONNECTION_KEY_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:1:secret:k",
            ),
        ]);
        let e = wanted(&l).unwrap_err();
        assert!(e.contains("CONNECTION_KEY_SECRET_ARN"), "{e}");
        assert!(!e.contains("do-not-print-this-value"), "{e}");
    }

    #[tokio::test]
    async fn nothing_named_fetches_nothing() {
        let f = fetch(&lookup(&[(
            "CONNECTION_KEY_SECRET",
            "x".repeat(20).as_str(),
        )]))
        .await
        .unwrap();
        assert!(f.is_empty());
    }

    #[test]
    fn debug_shows_names_only() {
        let mut m = BTreeMap::new();
        m.insert(
            "TARGET_CONNECTIONS".to_string(),
            "{\"a\":\"postgres://u:pw@h/db\"}".into(),
        );
        let s = format!("{:?}", Fetched(m));
        assert_eq!(s, "{\"TARGET_CONNECTIONS\"}");
    }

    #[test]
    fn a_bad_timeout_is_named() {
        let e = timeout(&lookup(&[("SECRETS_TIMEOUT_MS", "soon")])).unwrap_err();
        assert!(e.contains("SECRETS_TIMEOUT_MS"), "{e}");
    }
}
