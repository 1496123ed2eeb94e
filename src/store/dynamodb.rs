//! DynamoDB snapshot store: one table, chosen by `SNAPSHOT_STORE=dynamodb` and named by
//! `SNAPSHOT_TABLE`.
//!
//! Owns the item layout below, the save protocol (body first, pointer last), retention
//! (supersede, keep limit, TTL) and the mapping of AWS errors onto [`StoreError`]s that
//! name the table. It must never store a credential (it is handed hashed keys only),
//! never let a reader see a half-written snapshot, never move the latest pointer
//! backwards in time, never put a TTL on the snapshot the pointer names, and never
//! panic on anything DynamoDB returns.
//!
//! # Items
//!
//! One table, `pk` (S, partition key) + `sk` (S, sort key), on-demand capacity, TTL on
//! the Number attribute `expiresAt` (epoch seconds). All items of one (connection key,
//! schemas) live under one partition key:
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | pointer | `conn#{connectionKey}#{schemasKey}` | `latest` | the latest snapshot's `id`, `capturedAt`, `capturedAtMs`, `signature`, `deepSignature`, `tableCount`, `workspaceId`?, `parts`, `bodyBytes`, `gzipBytes`, `sha256`, plus `connectionKey`, `schemasKey`, `updatedAt`; never `expiresAt` |
//! | summary | same | `snap#{id}` | the same snapshot fields, `pending` (BOOL, only until committed), `expiresAt`? |
//! | body part | same | `body#{id}#{n:04}` | `data` (B): part `n` of the gzip'd JSON, at most 350,000 bytes; `expiresAt`? |
//!
//! When `schemasKey` would make `pk` longer than 1,024 bytes, `pk` carries
//! `sha256:{hex of schemasKey}` instead (the pointer keeps the full `schemasKey`).
//!
//! A snapshot id is `{capturedAt as 13-digit epoch milliseconds}-{8 hex digits}`, the hex
//! being deciseconds from capture to save and 4 random bits, so among saves of one
//! capture time (a visible refresh keeps its base's) the later one sorts last,
//! e.g. `1764000000123-9f3a1c2b`, so ids sort by capture time and `sk = "snap#{id}"`
//! follows from the id. History is one Query, `begins_with(sk, "snap#")` newest first
//! (`before` becomes `sk BETWEEN "snap#" AND "snap#{ms}"`); the latest is one GetItem on
//! the pointer plus one Query of `body#{id}#` (parts in order). `capturedAt` is stored
//! and returned as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds), the format the
//! PostgreSQL store returns.
//!
//! # Save
//!
//! 1. gzip the JSON, split it into 350,000-byte parts (at most 48), write the parts
//!    (BatchWriteItem, unprocessed items retried), then the summary item with
//!    `pending = true`. Both carry `expiresAt = now + ttl_days`, so a save that dies
//!    here leaves garbage that expires and that no read shows (pending summaries are
//!    skipped, parts are only read through a committed summary or the pointer).
//! 2. Read the pointer (consistent). If it names a newer snapshot (greater id), the save
//!    is an older one: its summary is committed (`pending` removed) into history and
//!    the pointer stays.
//! 3. Otherwise one TransactWriteItems moves the pointer, conditioned on
//!    `attribute_not_exists(pk)` or `id = :previous AND id < :new` (only forward in
//!    time, and only from the pointer this save read); in the same transaction it
//!    removes `pending` and `expiresAt` from the new snapshot's items and either deletes
//!    the previous latest's items (when the deep signatures are equal: an unchanged
//!    re-read supersedes the latest) or gives them `expiresAt = now + ttl_days`. A
//!    cancelled transaction (another save moved the pointer) goes back to step 2.
//! 4. Retention: committed snapshots beyond the newest `keep` are deleted (best effort;
//!    a failure is logged, the save is already durable).
//!
//! # Retention and TTL
//!
//! A snapshot is kept while the pointer names it, and for `ttl_days` after it stops
//! being the latest (or after it was saved, for a save that never became the latest);
//! `ttl_days = 0` turns TTL off. DynamoDB deletes expired items up to about 48 hours
//! late (moto never does), so every read treats an item whose `expiresAt` has passed
//! as gone; the pointed-to snapshot never carries `expiresAt`, so it is never hidden or
//! deleted. The PostgreSQL store has no age limit; the supersede and `keep` rules are
//! the same in both stores.

use super::{NewSnapshot, SnapshotStore, SnapshotSummary, StoreError, StoreKey, StoredSnapshot};
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, DeleteRequest, KeySchemaElement,
    KeyType, Put, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use model::api::StoreKind;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Duration;

/// The TTL attribute (epoch seconds) the table's TTL setting must name.
pub const TTL_ATTRIBUTE: &str = "expiresAt";
/// Largest body part, in gzip'd bytes: well under DynamoDB's 400 KB item limit (and
/// moto's ~405,000 bytes) with room for the keys and attribute names.
pub const PART_BYTES: usize = 350_000;
/// Most parts a snapshot may have (so a save stays within one 100-action transaction):
/// about 16.8 MB of gzip'd JSON.
pub const MAX_PARTS: usize = 48;
/// Longest partition key written verbatim; longer schema lists are hashed.
const MAX_PK_BYTES: usize = 1024;
/// Pointer moves tried before a save gives up (each failure means another save won).
const SAVE_ATTEMPTS: usize = 64;
/// Pointer-then-body reads tried before a mismatch is reported as corruption (a
/// concurrent supersede can delete the body a reader is about to read).
const READ_ATTEMPTS: usize = 3;
/// Rounds of BatchWriteItem retries for unprocessed items.
const BATCH_ROUNDS: usize = 8;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoStoreOptions {
    /// Table name (`SNAPSHOT_TABLE`).
    pub table: String,
    /// Endpoint override for an emulator (`DYNAMODB_ENDPOINT_URL` / `AWS_ENDPOINT_URL`);
    /// `None` uses AWS.
    pub endpoint_url: Option<String>,
    /// Region override; `None` uses the standard chain (`AWS_REGION`, profile...).
    pub region: Option<String>,
    /// Static access key id and secret for an emulator; `None` uses the standard
    /// credentials chain (environment, profile, container or instance role).
    pub credentials: Option<(String, String)>,
    /// Days a snapshot is kept after it stops being the latest; 0 turns TTL off.
    pub ttl_days: u32,
    /// History entries kept per (connection, schemas).
    pub keep: usize,
    /// Bound on each DynamoDB operation, retries included.
    pub timeout: Duration,
}

impl Default for DynamoStoreOptions {
    fn default() -> Self {
        DynamoStoreOptions {
            table: "catalog_snapshots".into(),
            endpoint_url: None,
            region: None,
            credentials: None,
            ttl_days: 30,
            keep: 50,
            timeout: Duration::from_secs(5),
        }
    }
}

pub struct DynamoStore {
    client: Client,
    opts: DynamoStoreOptions,
}

/// The fields the pointer and a summary item share.
#[derive(Debug, Clone, PartialEq)]
struct Meta {
    id: String,
    captured_at: String,
    captured_ms: i64,
    signature: String,
    deep_signature: String,
    table_count: usize,
    workspace_id: Option<String>,
    parts: usize,
    body_bytes: usize,
    gzip_bytes: usize,
    sha256: String,
    /// Whose body parts hold this snapshot's JSON: the id of the save that wrote them.
    /// `None` (items written before refresh in place existed): the snapshot's own id.
    body_id: Option<String>,
}

fn av_s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn av_n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        Some(_) => Err(format!("attribute {name} is not a string")),
        None => Err(format!("attribute {name} is missing")),
    }
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, String> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| format!("attribute {name} is not a valid number: {n:?}")),
        Some(_) => Err(format!("attribute {name} is not a number")),
        None => Err(format!("attribute {name} is missing")),
    }
}

impl Meta {
    fn write_into(&self, item: &mut Item) {
        item.insert("id".into(), av_s(&self.id));
        item.insert("capturedAt".into(), av_s(&self.captured_at));
        item.insert("capturedAtMs".into(), av_n(self.captured_ms));
        item.insert("signature".into(), av_s(&self.signature));
        item.insert("deepSignature".into(), av_s(&self.deep_signature));
        item.insert("tableCount".into(), av_n(self.table_count));
        if let Some(w) = &self.workspace_id {
            item.insert("workspaceId".into(), av_s(w));
        }
        item.insert("parts".into(), av_n(self.parts));
        item.insert("bodyBytes".into(), av_n(self.body_bytes));
        item.insert("gzipBytes".into(), av_n(self.gzip_bytes));
        item.insert("sha256".into(), av_s(&self.sha256));
        if let Some(b) = &self.body_id {
            item.insert("bodyId".into(), av_s(b));
        }
    }

    /// The id under which this snapshot's body parts are stored.
    fn body(&self) -> &str {
        self.body_id.as_deref().unwrap_or(&self.id)
    }

    fn from_item(item: &Item) -> Result<Meta, String> {
        Ok(Meta {
            id: get_s(item, "id")?.to_string(),
            captured_at: get_s(item, "capturedAt")?.to_string(),
            captured_ms: get_n(item, "capturedAtMs")?,
            signature: get_s(item, "signature")?.to_string(),
            deep_signature: get_s(item, "deepSignature")?.to_string(),
            table_count: get_n(item, "tableCount")?,
            workspace_id: get_s(item, "workspaceId").ok().map(str::to_string),
            parts: get_n(item, "parts")?,
            body_bytes: get_n(item, "bodyBytes")?,
            gzip_bytes: get_n(item, "gzipBytes")?,
            sha256: get_s(item, "sha256")?.to_string(),
            body_id: get_s(item, "bodyId").ok().map(str::to_string),
        })
    }

    fn summary(&self) -> SnapshotSummary {
        SnapshotSummary {
            id: self.id.clone(),
            captured_at: self.captured_at.clone(),
            signature: self.signature.clone(),
            deep_signature: self.deep_signature.clone(),
            table_count: self.table_count,
        }
    }
}

/// The partition key of every item of `key`.
pub fn partition_key(key: &StoreKey) -> String {
    let pk = format!("conn#{}#{}", key.connection_key, key.schemas_key);
    if pk.len() <= MAX_PK_BYTES {
        pk
    } else {
        format!(
            "conn#{}#sha256:{}",
            key.connection_key,
            hex::encode(Sha256::digest(key.schemas_key.as_bytes()))
        )
    }
}

/// Sort key of the pointer item.
pub const POINTER_SK: &str = "latest";

/// Sort key of the read lease item under a connection's partition key.
pub const LEASE_SK: &str = "lease";

/// Sort key of a snapshot's summary item.
pub fn summary_sk(id: &str) -> String {
    format!("snap#{id}")
}

/// Sort key of part `n` of a snapshot's body.
pub fn body_sk(id: &str, n: usize) -> String {
    format!("body#{id}#{n:04}")
}

/// Ids this store issues: 13 digits, a dash, then 23 lowercase hex digits (7 of
/// deciseconds from capture to save, 16 random: 64 bits), or 8 (ids issued before
/// ids carried 64 random bits: 4 random bits; still read).
fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    (b.len() == 22 || b.len() == 37)
        && b[..13].iter().all(u8::is_ascii_digit)
        && b[13] == b'-'
        && b[14..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// A new snapshot id for a save of `captured_ms` at `now_ms`: unique by construction
/// (64 random bits), ordered by capture time, then by when it was saved.
fn new_id(captured_ms: i64, now_ms: i64) -> String {
    let since = (now_ms.saturating_sub(captured_ms).max(0) / 100).min(0x0fff_ffff);
    format!(
        "{captured_ms:013}-{since:07x}{:016x}",
        rand::random::<u64>()
    )
}

/// The partition key and sort key of the generated connection-key secret.
const SETTINGS_PK: &str = "settings";
const SECRET_SK: &str = "connection-key-secret";

fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// Epoch nanoseconds of an RFC 3339 time.
fn parse_nanos(s: &str) -> Option<i128> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// Largest epoch milliseconds an id can carry (13 digits: year 2286).
const MAX_MS: i64 = 9_999_999_999_999;

/// `capturedAt` as epoch milliseconds and in the canonical `...SS.mmmZ` form.
fn canonical_time(s: &str) -> Result<(i64, String), StoreError> {
    let bad = || {
        StoreError::Corrupt(format!(
            "capturedAt {s:?} cannot be stored: it must be an RFC 3339 time between 1970 and 2286"
        ))
    };
    let nanos = parse_nanos(s).ok_or_else(bad)?;
    let ms = i64::try_from(nanos.div_euclid(1_000_000)).map_err(|_| bad())?;
    if !(0..=MAX_MS).contains(&ms) {
        return Err(bad());
    }
    Ok((ms, format_ms(ms).ok_or_else(bad)?))
}

fn format_ms(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .ok()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format_ms(i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
        .unwrap_or_default()
}

/// True when the item carries an `expiresAt` that has passed.
fn expired(item: &Item, now: i64) -> bool {
    matches!(get_n::<i64>(item, TTL_ATTRIBUTE), Ok(at) if at <= now)
}

fn is_pending(item: &Item) -> bool {
    matches!(item.get("pending"), Some(AttributeValue::Bool(true)))
}

fn gzip(json: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 8 + 64),
        flate2::Compression::default(),
    );
    enc.write_all(json)
        .and_then(|_| enc.finish())
        .map_err(|e| StoreError::Unavailable(format!("gzip failed: {e}")))
}

/// Gunzips at most `expected + 1` bytes (so a corrupt length cannot exhaust memory).
fn gunzip(gz: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(expected);
    flate2::read::GzDecoder::new(gz)
        .take(expected as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("body does not gunzip: {e}"))?;
    Ok(out)
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Unavailable(format!("building a DynamoDB request failed: {e}"))
}

fn key_item(pk: &str, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_string(), av_s(pk)), ("sk".to_string(), av_s(sk))])
}

impl DynamoStore {
    /// A client for `opts.table` from the standard AWS configuration chain, with the
    /// overrides in `opts`. Checks nothing remote (see [`SnapshotStore::prepare`]).
    pub async fn new(opts: DynamoStoreOptions) -> Result<Self, StoreError> {
        let table = &opts.table;
        let valid_name = (3..=255).contains(&table.len())
            && table
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
        if !valid_name {
            return Err(StoreError::Misconfigured(format!(
                "SNAPSHOT_TABLE {table:?} is not a valid DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, _ - .)"
            )));
        }
        let attempt = (opts.timeout / 2)
            .max(Duration::from_secs(1))
            .min(opts.timeout);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(50))
                    .with_max_backoff(Duration::from_secs(2)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(attempt)
                    .operation_attempt_timeout(attempt)
                    .operation_timeout(opts.timeout)
                    .build(),
            );
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some((id, secret)) = &opts.credentials {
            loader = loader.credentials_provider(Credentials::new(
                id.clone(),
                secret.clone(),
                None,
                None,
                "catalog-snapshot-static",
            ));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(StoreError::Misconfigured(format!(
                "no AWS region for the DynamoDB table {table:?}: set AWS_REGION"
            )));
        }
        Ok(DynamoStore {
            client: Client::new(&sdk),
            opts,
        })
    }

    /// The SDK client (tests read raw items with it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.opts.table
    }

    /// Creates the table (`pk` S + `sk` S, on demand, TTL on `expiresAt`) unless it
    /// exists, and waits until it is active. For tests, the demo and local use; a
    /// deployed table comes from the template.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        let table = &self.opts.table;
        let exists = match self.client.describe_table().table_name(table).send().await {
            Ok(_) => true,
            Err(e) if e.code() == Some("ResourceNotFoundException") => false,
            Err(e) => return Err(self.sdk_err("DescribeTable", e)),
        };
        if !exists {
            let key = |name: &str, kind: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(build_err)
            };
            let attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_err)
            };
            let created = self
                .client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .key_schema(key("pk", KeyType::Hash)?)
                .key_schema(key("sk", KeyType::Range)?)
                .attribute_definitions(attr("pk")?)
                .attribute_definitions(attr("sk")?)
                .send()
                .await;
            match created {
                Ok(_) => tracing::info!(table = %table, "created DynamoDB table"),
                Err(e) if e.code() == Some("ResourceInUseException") => {}
                Err(e) => return Err(self.sdk_err("CreateTable", e)),
            }
        }
        let start = std::time::Instant::now();
        loop {
            let d = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| self.sdk_err("DescribeTable", e))?;
            if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                return Err(StoreError::Timeout(120_000));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| self.sdk_err("DescribeTimeToLive", e))?;
        let enabled = ttl.time_to_live_description().is_some_and(|d| {
            matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
        });
        if !enabled {
            let spec = TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build_err)?;
            self.client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| self.sdk_err("UpdateTimeToLive", e))?;
        }
        Ok(())
    }

    /// Maps an SDK error onto a [`StoreError`] naming the table and the operation.
    fn sdk_err<E, R>(&self, op: &str, e: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let table = &self.opts.table;
        let timeout = || StoreError::Timeout(self.opts.timeout.as_millis() as u64);
        match &e {
            SdkError::TimeoutError(_) => return timeout(),
            SdkError::DispatchFailure(d) if d.is_timeout() => return timeout(),
            SdkError::ConstructionFailure(_) => {
                return StoreError::Misconfigured(format!(
                    "cannot call DynamoDB {op} on table {table:?} (check AWS credentials and region): {}",
                    DisplayErrorContext(&e)
                ))
            }
            _ => {}
        }
        let message = e.message().unwrap_or("").to_string();
        match e.code() {
            Some("ResourceNotFoundException") => StoreError::Misconfigured(format!(
                "DynamoDB table {table:?} does not exist ({op}): create it with the deployment \
                 template or set SNAPSHOT_TABLE"
            )),
            Some(
                code @ ("AccessDeniedException"
                | "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "MissingAuthenticationTokenException"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"),
            ) => StoreError::Misconfigured(format!(
                "not allowed to {op} on DynamoDB table {table:?}: {code}: {message}"
            )),
            _ => StoreError::Unavailable(format!(
                "DynamoDB {op} on table {table:?} failed: {}",
                DisplayErrorContext(&e)
            )),
        }
    }

    fn corrupt(&self, what: &str, why: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!(
            "{what} in DynamoDB table {:?}: {why}",
            self.opts.table
        ))
    }

    fn expires_from_now(&self) -> Option<i64> {
        (self.opts.ttl_days > 0).then(|| now_secs() + i64::from(self.opts.ttl_days) * 86_400)
    }

    async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.opts.table)
            .set_key(Some(key_item(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_err("GetItem", e))?;
        Ok(out.item)
    }

    async fn get_pointer(&self, pk: &str) -> Result<Option<Meta>, StoreError> {
        match self.get_item(pk, POINTER_SK).await? {
            None => Ok(None),
            Some(item) => Meta::from_item(&item)
                .map(Some)
                .map_err(|e| self.corrupt("latest pointer", e)),
        }
    }

    /// Reads and checks a body. The inner `Err` is an inconsistency (missing or extra
    /// parts, wrong size or checksum) that a concurrent supersede can cause, so callers
    /// re-read before calling it corruption.
    async fn read_body(&self, pk: &str, meta: &Meta) -> Result<Result<Bytes, String>, StoreError> {
        let prefix = format!("body#{}#", meta.body());
        let mut gz: Vec<u8> = Vec::with_capacity(meta.gzip_bytes);
        let mut n = 0usize;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.opts.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", av_s(pk))
                .expression_attribute_values(":prefix", av_s(&prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.sdk_err("Query", e))?;
            for item in out.items() {
                let sk = get_s(item, "sk").unwrap_or("");
                if sk != body_sk(meta.body(), n) {
                    return Ok(Err(format!("body part {n} of {} is missing", meta.parts)));
                }
                match item.get("data") {
                    Some(AttributeValue::B(b)) => gz.extend_from_slice(b.as_ref()),
                    _ => return Ok(Err(format!("body part {n} has no binary data"))),
                }
                n += 1;
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        if n != meta.parts || gz.len() != meta.gzip_bytes {
            return Ok(Err(format!(
                "body has {n} parts of {} bytes, expected {} parts of {} bytes",
                gz.len(),
                meta.parts,
                meta.gzip_bytes
            )));
        }
        let json = match gunzip(&gz, meta.body_bytes) {
            Ok(j) => j,
            Err(e) => return Ok(Err(e)),
        };
        if json.len() != meta.body_bytes {
            return Ok(Err(format!(
                "body is {} bytes, expected {}",
                json.len(),
                meta.body_bytes
            )));
        }
        if hex::encode(Sha256::digest(&json)) != meta.sha256 {
            return Ok(Err("body sha256 does not match".into()));
        }
        Ok(Ok(Bytes::from(json)))
    }

    /// BatchWriteItem in requests of at most 10 items (a few MB), retrying unprocessed
    /// items with backoff.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let table = self.opts.table.clone();
        for chunk in requests.chunks(10) {
            let mut pending = chunk.to_vec();
            let mut round = 0;
            while !pending.is_empty() {
                if round >= BATCH_ROUNDS {
                    return Err(StoreError::Unavailable(format!(
                        "DynamoDB BatchWriteItem on table {table:?}: {} items still unprocessed (throttled)",
                        pending.len()
                    )));
                }
                if round > 0 {
                    let ms = (25u64 << round.min(6)) + rand::random_range(0..25);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                round += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&table, pending)
                    .send()
                    .await
                    .map_err(|e| self.sdk_err("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// PutItem on the condition that the item does not exist yet: `Ok(false)` when it
    /// does (nothing is written).
    async fn put_if_absent(&self, item: Item) -> Result<bool, StoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.opts.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(self.sdk_err("PutItem", e)),
        }
    }

    /// PutItem of an item of a new snapshot, which must not exist yet.
    async fn put_new(&self, item: Item) -> Result<(), StoreError> {
        let sk = get_s(&item, "sk").unwrap_or("").to_string();
        if self.put_if_absent(item).await? {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "DynamoDB table {:?} already holds item {sk:?}: refusing to overwrite it",
                self.opts.table
            )))
        }
    }

    fn delete_request(pk: &str, sk: String) -> Result<WriteRequest, StoreError> {
        Ok(WriteRequest::builder()
            .delete_request(
                DeleteRequest::builder()
                    .set_key(Some(key_item(pk, sk)))
                    .build()
                    .map_err(build_err)?,
            )
            .build())
    }

    fn update(
        &self,
        pk: &str,
        sk: String,
        expr: &str,
        values: Option<Item>,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.opts.table)
            .set_key(Some(key_item(pk, sk)))
            .update_expression(expr)
            .set_expression_attribute_values(values)
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The pointer Put for `meta`, on the condition that the pointer is still exactly
    /// `previous` (same id and same body: a compare-and-swap, so two saves never both
    /// move it from the same state).
    fn pointer_put(
        &self,
        pk: &str,
        key: &StoreKey,
        meta: &Meta,
        previous: Option<&Meta>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut pointer = key_item(pk, POINTER_SK);
        meta.write_into(&mut pointer);
        pointer.insert("connectionKey".into(), av_s(&key.connection_key));
        pointer.insert("schemasKey".into(), av_s(&key.schemas_key));
        pointer.insert("updatedAt".into(), av_s(now_iso()));
        let mut put = Put::builder()
            .table_name(&self.opts.table)
            .set_item(Some(pointer));
        put = match previous {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(prev) => {
                let put = put
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_values(":previous", av_s(&prev.id));
                match &prev.body_id {
                    None => {
                        put.condition_expression("#id = :previous AND attribute_not_exists(bodyId)")
                    }
                    Some(body) => put
                        .condition_expression("#id = :previous AND bodyId = :body")
                        .expression_attribute_values(":body", av_s(body)),
                }
            }
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_err)?)
            .build())
    }

    fn delete_action(&self, pk: &str, sk: String) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.opts.table)
            .set_key(Some(key_item(pk, sk)))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// `REMOVE expiresAt` on the body parts of `meta` (the latest never expires).
    fn keep_body(&self, pk: &str, meta: &Meta) -> Result<Vec<TransactWriteItem>, StoreError> {
        if self.opts.ttl_days == 0 {
            return Ok(Vec::new());
        }
        (0..meta.parts)
            .map(|n| {
                self.update(
                    pk,
                    body_sk(meta.body(), n),
                    &format!("REMOVE {TTL_ATTRIBUTE}"),
                    None,
                    None,
                )
            })
            .collect()
    }

    /// The transaction that makes `meta` the latest, replacing `previous` (which stays
    /// in history and expires `ttl_days` from now).
    fn pointer_transaction(
        &self,
        pk: &str,
        key: &StoreKey,
        meta: &Meta,
        previous: Option<&Meta>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut actions = vec![self.pointer_put(pk, key, meta, previous)?];
        // Commit the new snapshot and lift its TTL: the latest never expires.
        actions.push(self.update(
            pk,
            summary_sk(&meta.id),
            &format!("REMOVE pending, {TTL_ATTRIBUTE}"),
            None,
            Some("attribute_exists(pk)"),
        )?);
        actions.extend(self.keep_body(pk, meta)?);
        if let (Some(prev), Some(at)) = (previous, self.expires_from_now()) {
            let values = HashMap::from([(":at".to_string(), av_n(at))]);
            let mut sks = vec![summary_sk(&prev.id)];
            sks.extend((0..prev.parts).map(|n| body_sk(prev.body(), n)));
            for sk in sks {
                actions.push(self.update(
                    pk,
                    sk,
                    &format!("SET {TTL_ATTRIBUTE} = :at"),
                    Some(values.clone()),
                    None,
                )?);
            }
        }
        Ok(actions)
    }

    /// The transaction that refreshes the latest, `current`, in place with the body
    /// `fresh` saved: the pointer and `current`'s summary take `fresh`'s capture time,
    /// signatures and body (keeping `current`'s id), `fresh`'s pending summary goes,
    /// and `current`'s old body parts are deleted. At most 3 + 2 * 48 actions.
    fn refresh_transaction(
        &self,
        pk: &str,
        key: &StoreKey,
        current: &Meta,
        fresh: &Meta,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let refreshed = Meta {
            id: current.id.clone(),
            workspace_id: current.workspace_id.clone(),
            body_id: Some(fresh.id.clone()),
            ..fresh.clone()
        };
        let mut actions = vec![self.pointer_put(pk, key, &refreshed, Some(current))?];
        let mut summary = key_item(pk, summary_sk(&current.id));
        refreshed.write_into(&mut summary);
        let put = Put::builder()
            .table_name(&self.opts.table)
            .set_item(Some(summary))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        actions.push(TransactWriteItem::builder().put(put).build());
        actions.push(self.delete_action(pk, summary_sk(&fresh.id))?);
        actions.extend(self.keep_body(pk, fresh)?);
        for n in 0..current.parts {
            actions.push(self.delete_action(pk, body_sk(current.body(), n))?);
        }
        Ok(actions)
    }

    /// Makes the save `meta` durable: moves the pointer to it; or, when it is an
    /// unchanged re-read of the latest (same deep signature, captured no earlier),
    /// refreshes the latest in place; or, when a newer snapshot is the latest, commits
    /// it into history only. Returns the acknowledged id (the latest's, for a refresh in
    /// place) and whether it is now the latest.
    async fn move_pointer(
        &self,
        pk: &str,
        key: &StoreKey,
        meta: &Meta,
    ) -> Result<(String, bool), StoreError> {
        let table = &self.opts.table;
        for attempt in 0..SAVE_ATTEMPTS {
            if attempt > 0 {
                let ms = rand::random_range(1..=(5 * attempt.min(10) as u64 + 5));
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let current = self.get_pointer(pk).await?;
            let mut actions = None;
            if let Some(cur) = &current {
                if cur.id == meta.id {
                    // An earlier attempt went through (its answer was lost). Make sure its
                    // summary is committed too: idempotent where the transaction was
                    // atomic, a repair where an emulator applied it only in part.
                    self.commit_into_history(pk, &meta.id).await?;
                    return Ok((meta.id.clone(), true));
                }
                if cur.body_id.as_deref() == Some(meta.id.as_str()) {
                    // An earlier refresh in place went through.
                    return Ok((cur.id.clone(), true));
                }
                if cur.deep_signature == meta.deep_signature && cur.captured_ms <= meta.captured_ms
                {
                    actions = Some(self.refresh_transaction(pk, key, cur, meta)?);
                } else if (cur.captured_ms, cur.id.as_str()) > (meta.captured_ms, meta.id.as_str())
                {
                    self.commit_into_history(pk, &meta.id).await?;
                    // Now committed into history, it may be beyond the newest `keep`.
                    if let Err(e) = self.trim(pk).await {
                        tracing::warn!(table = %table, error = %e, "history trim failed; it is retried on the next save");
                    }
                    return Ok((meta.id.clone(), false));
                }
            }
            let actions = match actions {
                Some(a) => a,
                None => self.pointer_transaction(pk, key, meta, current.as_ref())?,
            };
            let refresh = current
                .as_ref()
                .filter(|c| {
                    c.deep_signature == meta.deep_signature && c.captured_ms <= meta.captured_ms
                })
                .map(|c| c.id.clone());
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await
            {
                Ok(_) => return Ok((refresh.unwrap_or_else(|| meta.id.clone()), true)),
                Err(e)
                    if matches!(
                        e.code(),
                        Some("TransactionCanceledException" | "TransactionConflictException")
                    ) =>
                {
                    tracing::debug!(table = %table, attempt, "latest pointer moved meanwhile; retrying");
                }
                Err(e) => return Err(self.sdk_err("TransactWriteItems", e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "could not move the latest pointer in DynamoDB table {table:?} after {SAVE_ATTEMPTS} attempts (too many concurrent saves)"
        )))
    }

    /// Summary items under `pk`, newest first, optionally only those captured before
    /// `before_ms` (`None`: all); `visit` ends the scan early by returning true.
    async fn summaries(
        &self,
        pk: &str,
        before_ms: Option<i64>,
        page: i32,
        mut visit: impl FnMut(Item) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.opts.table)
                .expression_attribute_values(":pk", av_s(pk))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(page)
                .set_exclusive_start_key(start.take());
            q = match before_ms {
                None => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", av_s("snap#")),
                Some(ms) => q
                    .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                    .expression_attribute_values(":lo", av_s("snap#"))
                    .expression_attribute_values(":hi", av_s(format!("snap#{ms:013}"))),
            };
            let out = q.send().await.map_err(|e| self.sdk_err("Query", e))?;
            for item in out.items.unwrap_or_default() {
                if visit(item)? {
                    return Ok(());
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(()),
            }
        }
    }

    /// Commits an older save's pending summary into history. A failed condition is
    /// re-checked by reading the item: gone means a concurrent save's retention already
    /// trimmed it (it is behind the newest `keep`); still there means the answer was
    /// spurious (seen on moto under concurrent writes), so try again.
    async fn commit_into_history(&self, pk: &str, id: &str) -> Result<(), StoreError> {
        for attempt in 0..READ_ATTEMPTS {
            let result = self
                .client
                .update_item()
                .table_name(&self.opts.table)
                .set_key(Some(key_item(pk, summary_sk(id))))
                .update_expression("REMOVE pending")
                .condition_expression("attribute_exists(pk)")
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
                {
                    if self.get_item(pk, &summary_sk(id)).await?.is_none() {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(10 * (attempt as u64 + 1))).await;
                }
                Err(e) => return Err(self.sdk_err("UpdateItem", e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "could not commit snapshot {id} into the history of DynamoDB table {:?}",
            self.opts.table
        )))
    }

    /// Deletes committed snapshots beyond the newest `keep` (pending ones count toward
    /// `keep` but are left alone). The latest is always the newest committed snapshot,
    /// so it is never among them.
    async fn trim(&self, pk: &str) -> Result<(), StoreError> {
        let keep = self.opts.keep.max(1);
        let now = now_secs();
        let mut kept = 0usize;
        // (id, body id, parts)
        let mut doomed: Vec<(String, String, usize)> = Vec::new();
        self.summaries(pk, None, 200, |item| {
            if expired(&item, now) {
                return Ok(false);
            }
            // A pending summary (a save in flight) holds its place in the order, so a
            // newer committed snapshot is never trimmed in favour of an older one that
            // commits later; it is never deleted here (its save may still move the
            // pointer): an older save trims again once it has committed.
            if is_pending(&item) {
                kept += 1;
                return Ok(false);
            }
            let (Ok(id), Ok(parts)) = (get_s(&item, "id"), get_n::<usize>(&item, "parts")) else {
                return Ok(false);
            };
            let body = get_s(&item, "bodyId").unwrap_or(id);
            if kept < keep {
                kept += 1;
            } else {
                doomed.push((id.to_string(), body.to_string(), parts));
            }
            Ok(false)
        })
        .await?;
        if doomed.is_empty() {
            return Ok(());
        }
        let mut requests = Vec::new();
        for (id, body, parts) in &doomed {
            requests.push(Self::delete_request(pk, summary_sk(id))?);
            for n in 0..*parts {
                requests.push(Self::delete_request(pk, body_sk(body, n))?);
            }
        }
        self.batch_write(requests).await?;
        tracing::debug!(table = %self.opts.table, removed = doomed.len(), "trimmed snapshot history");
        Ok(())
    }
}

#[async_trait]
impl SnapshotStore for DynamoStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Dynamodb
    }

    /// Checks the table exists with the expected keys (DescribeTable), and warns when
    /// TTL is not enabled on `expiresAt`. Creates nothing.
    async fn prepare(&self) -> Result<(), StoreError> {
        let table = &self.opts.table;
        let out = self
            .client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| self.sdk_err("DescribeTable", e))?;
        let Some(desc) = out.table() else {
            return Err(StoreError::Misconfigured(format!(
                "DescribeTable returned no description of DynamoDB table {table:?}"
            )));
        };
        let has_key = |name: &str, kind: KeyType| {
            desc.key_schema()
                .iter()
                .any(|k| k.attribute_name() == name && *k.key_type() == kind)
                && desc.attribute_definitions().iter().any(|a| {
                    a.attribute_name() == name && *a.attribute_type() == ScalarAttributeType::S
                })
        };
        if !(has_key("pk", KeyType::Hash) && has_key("sk", KeyType::Range)) {
            return Err(StoreError::Misconfigured(format!(
                "DynamoDB table {table:?} must have the string keys pk (partition) and sk (sort)"
            )));
        }
        match desc.table_status() {
            Some(TableStatus::Active | TableStatus::Updating) | None => {}
            Some(status) => {
                return Err(StoreError::Unavailable(format!(
                    "DynamoDB table {table:?} is {status}, not active"
                )))
            }
        }
        if self.opts.ttl_days > 0 {
            match self
                .client
                .describe_time_to_live()
                .table_name(table)
                .send()
                .await
            {
                Ok(ttl) => {
                    let on = ttl.time_to_live_description().is_some_and(|d| {
                        d.attribute_name() == Some(TTL_ATTRIBUTE)
                            && matches!(
                                d.time_to_live_status(),
                                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                            )
                    });
                    if !on {
                        tracing::warn!(table = %table,
                            "TTL is not enabled on attribute {TTL_ATTRIBUTE}: old snapshots are hidden but never deleted");
                    }
                }
                Err(e) => {
                    tracing::debug!(table = %table, error = %DisplayErrorContext(&e), "could not check the table's TTL setting")
                }
            }
        }
        Ok(())
    }

    async fn load_latest(&self, key: &StoreKey) -> Result<Option<StoredSnapshot>, StoreError> {
        let pk = partition_key(key);
        let mut why = String::new();
        for _ in 0..READ_ATTEMPTS {
            let Some(meta) = self.get_pointer(&pk).await? else {
                return Ok(None);
            };
            match self.read_body(&pk, &meta).await? {
                Ok(json) => {
                    return Ok(Some(StoredSnapshot {
                        summary: meta.summary(),
                        json,
                    }))
                }
                // Perhaps superseded between the two reads: read the pointer again.
                Err(e) => why = format!("latest snapshot {}: {e}", meta.id),
            }
        }
        Err(self.corrupt("snapshot", why))
    }

    async fn try_lease(
        &self,
        key: &StoreKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let until_ms = now_ms + ttl.as_millis() as i128;
        let result = self
            .client
            .put_item()
            .table_name(&self.opts.table)
            .item("pk", av_s(partition_key(key)))
            .item("sk", av_s(LEASE_SK))
            .item("holder", av_s(holder))
            .item("leaseUntilMs", av_n(until_ms))
            // TTL cleans up leases nobody released; reads never depend on it.
            .item(TTL_ATTRIBUTE, av_n(until_ms / 1000 + 3600))
            .condition_expression(
                "attribute_not_exists(pk) OR leaseUntilMs < :now OR holder = :holder",
            )
            .expression_attribute_values(":now", av_n(now_ms))
            .expression_attribute_values(":holder", av_s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.sdk_err("PutItem", e)),
        }
    }

    async fn release_lease(&self, key: &StoreKey, holder: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.opts.table)
            .key("pk", av_s(partition_key(key)))
            .key("sk", av_s(LEASE_SK))
            .condition_expression("holder = :holder")
            .expression_attribute_values(":holder", av_s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.sdk_err("DeleteItem", e)),
        }
    }

    async fn latest_summary(&self, key: &StoreKey) -> Result<Option<SnapshotSummary>, StoreError> {
        Ok(self
            .get_pointer(&partition_key(key))
            .await?
            .map(|m| m.summary()))
    }

    async fn load(&self, key: &StoreKey, id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let pk = partition_key(key);
        let mut why = String::new();
        for _ in 0..READ_ATTEMPTS {
            let Some(item) = self.get_item(&pk, &summary_sk(id)).await? else {
                return Ok(None);
            };
            if is_pending(&item) || expired(&item, now_secs()) || !item.contains_key("id") {
                return Ok(None);
            }
            let meta =
                Meta::from_item(&item).map_err(|e| self.corrupt(&format!("snapshot {id}"), e))?;
            match self.read_body(&pk, &meta).await? {
                Ok(json) => {
                    return Ok(Some(StoredSnapshot {
                        summary: meta.summary(),
                        json,
                    }))
                }
                // Perhaps removed by retention meanwhile: look again.
                Err(e) => why = format!("snapshot {id}: {e}"),
            }
        }
        Err(self.corrupt("snapshot", why))
    }

    async fn save(&self, key: &StoreKey, snap: &NewSnapshot) -> Result<String, StoreError> {
        let pk = partition_key(key);
        let (captured_ms, captured_at) = canonical_time(&snap.captured_at)?;
        // The suffix orders saves of one capture time by when they were saved (a visible
        // refresh keeps its base's capture time), then 64 random bits make it unique.
        let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let id = new_id(captured_ms, now_ms);
        let gz = gzip(&snap.json)?;
        let chunks: Vec<&[u8]> = gz.chunks(PART_BYTES).collect();
        if chunks.len() > MAX_PARTS {
            return Err(StoreError::Unavailable(format!(
                "snapshot too large for DynamoDB table {:?}: {} bytes gzip'd, at most {} allowed",
                self.opts.table,
                gz.len(),
                MAX_PARTS * PART_BYTES
            )));
        }
        let meta = Meta {
            id: id.clone(),
            captured_at,
            captured_ms,
            signature: snap.signature.clone(),
            deep_signature: snap.deep_signature.clone(),
            table_count: snap.table_count,
            workspace_id: snap.workspace_id.clone(),
            parts: chunks.len(),
            body_bytes: snap.json.len(),
            gzip_bytes: gz.len(),
            sha256: hex::encode(Sha256::digest(&snap.json)),
            body_id: None,
        };
        let expires = self.expires_from_now();
        // 1. Body parts, then the summary (pending until committed), each written only
        // if it does not exist: a save never overwrites another save's items.
        let mut part_items: Vec<Item> = Vec::with_capacity(chunks.len());
        for (n, chunk) in chunks.iter().enumerate() {
            let mut item = key_item(&pk, body_sk(&id, n));
            item.insert("data".into(), AttributeValue::B(Blob::new(chunk.to_vec())));
            if let Some(at) = expires {
                item.insert(TTL_ATTRIBUTE.into(), av_n(at));
            }
            part_items.push(item);
        }
        futures::stream::iter(part_items.into_iter().map(|item| self.put_new(item)))
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await?;
        let mut summary = key_item(&pk, summary_sk(&id));
        meta.write_into(&mut summary);
        summary.insert("pending".into(), AttributeValue::Bool(true));
        if let Some(at) = expires {
            summary.insert(TTL_ATTRIBUTE.into(), av_n(at));
        }
        self.put_new(summary).await?;
        // 2-3. Move the pointer, refresh the latest in place, or commit into history
        // when a newer one is the latest.
        let (id, latest) = self.move_pointer(&pk, key, &meta).await?;
        // 4. Retention.
        if let Err(e) = self.trim(&pk).await {
            tracing::warn!(table = %self.opts.table, error = %e, "could not trim snapshot history");
        }
        tracing::debug!(table = %self.opts.table, id = %id, body = %meta.id, latest, parts = meta.parts,
            gzip_bytes = meta.gzip_bytes, "saved snapshot");
        Ok(id)
    }

    async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut item = key_item(SETTINGS_PK, SECRET_SK);
        item.insert(
            "secret".into(),
            AttributeValue::B(Blob::new(candidate.to_vec())),
        );
        item.insert("createdAt".into(), av_s(now_iso()));
        // Created once: a later (or concurrent) starter's candidate loses to the stored one.
        match self
            .client
            .put_item()
            .table_name(&self.opts.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(self.sdk_err("PutItem", e)),
        }
        match self.get_item(SETTINGS_PK, SECRET_SK).await? {
            Some(item) => match item.get("secret") {
                Some(AttributeValue::B(b)) if !b.as_ref().is_empty() => Ok(b.as_ref().to_vec()),
                _ => Err(self.corrupt("connection-key secret item", "it has no binary secret")),
            },
            None => Err(StoreError::Unavailable(format!(
                "the connection-key secret item of DynamoDB table {:?} vanished after it was written",
                self.opts.table
            ))),
        }
    }

    async fn adopt(&self, from: &StoreKey, to: &StoreKey) -> Result<usize, StoreError> {
        let (from_pk, to_pk) = (partition_key(from), partition_key(to));
        if from_pk == to_pk || self.get_item(&to_pk, POINTER_SK).await?.is_some() {
            return Ok(0);
        }
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.opts.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", av_s(&from_pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.sdk_err("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        let sk_of = |item: &Item| get_s(item, "sk").unwrap_or("").to_string();
        let mut pointer = None;
        let mut moved = 0;
        let mut old_keys = Vec::new();
        // Everything but the pointer first (an interrupted adopt leaves no pointer, so it
        // runs again), each only if not there yet; the pointer last.
        for mut item in items {
            let sk = sk_of(&item);
            if sk == LEASE_SK {
                continue;
            }
            old_keys.push(sk.clone());
            item.insert("pk".into(), av_s(&to_pk));
            if sk == POINTER_SK {
                item.insert("connectionKey".into(), av_s(&to.connection_key));
                item.insert("schemasKey".into(), av_s(&to.schemas_key));
                pointer = Some(item);
                continue;
            }
            moved += usize::from(sk.starts_with("snap#"));
            self.put_if_absent(item).await?;
        }
        let Some(pointer) = pointer else {
            return Ok(0);
        };
        if !self.put_if_absent(pointer).await? {
            // Another process adopted meanwhile.
            return Ok(0);
        }
        let deletes = old_keys
            .into_iter()
            .map(|sk| Self::delete_request(&from_pk, sk))
            .collect::<Result<Vec<_>, _>>()?;
        if let Err(e) = self.batch_write(deletes).await {
            tracing::warn!(table = %self.opts.table, error = %e,
                "snapshots moved to their new key; their old copies stay until they expire");
        }
        tracing::info!(table = %self.opts.table, moved, "moved snapshots to their connection's new key");
        Ok(moved)
    }

    async fn history(
        &self,
        key: &StoreKey,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SnapshotSummary>, StoreError> {
        let limit = limit.clamp(1, 1000);
        let before_ms = match before {
            None => None,
            Some(b) => {
                let nanos = parse_nanos(b).ok_or_else(|| {
                    StoreError::Unavailable(format!("history cursor {b:?} is not an RFC 3339 time"))
                })?;
                // Exclusive: captured (whole ms) < before  <=>  ms < ceil(before in ms).
                let ms = (nanos + 999_999).div_euclid(1_000_000);
                if ms <= 0 {
                    return Ok(Vec::new());
                }
                // Beyond the last time an id can carry: no upper bound.
                i64::try_from(ms).ok().filter(|ms| *ms <= MAX_MS)
            }
        };
        let pk = partition_key(key);
        let now = now_secs();
        let mut out = Vec::new();
        let page = (limit + 8).min(1000) as i32;
        // The snapshot the pointer names is committed by definition, whatever its flags.
        let latest = self.get_pointer(&pk).await?.map(|m| m.id);
        self.summaries(&pk, before_ms, page, |item| {
            let named = latest
                .as_deref()
                .is_some_and(|id| get_s(&item, "id") == Ok(id));
            if (!named && (is_pending(&item) || expired(&item, now))) || !item.contains_key("id") {
                return Ok(false);
            }
            // A snapshot refreshed in place sorts by its first capture time but carries
            // its last: the cursor applies to the time it carries.
            if before_ms
                .is_some_and(|b| get_n::<i64>(&item, "capturedAtMs").is_ok_and(|ms| ms >= b))
            {
                return Ok(false);
            }
            let meta = Meta::from_item(&item).map_err(|e| self.corrupt("snapshot summary", e))?;
            out.push(meta.summary());
            Ok(out.len() >= limit)
        })
        .await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_canonical_and_ids_sort_by_time() {
        assert_eq!(
            canonical_time("2026-11-24T02:13:44.123456+01:00").ok(),
            Some((1_795_482_824_123, "2026-11-24T01:13:44.123Z".to_string()))
        );
        assert_eq!(
            canonical_time("1970-01-01T00:00:00Z").ok(),
            Some((0, "1970-01-01T00:00:00.000Z".to_string()))
        );
        assert!(canonical_time("1969-12-31T23:59:59Z").is_err());
        assert!(canonical_time("yesterday").is_err());
        assert!(valid_id("1764000000123-9f3a1c2b"));
        assert!(!valid_id("1764000000123-9F3A1C2B"));
        assert!(!valid_id("42"));
        assert!("0999999999999-ffffffff" < "1000000000000-00000000");
    }

    #[test]
    fn long_schema_lists_are_hashed_into_the_partition_key() {
        let short = StoreKey {
            connection_key: "k".into(),
            schemas_key: r#"["public"]"#.into(),
        };
        assert_eq!(partition_key(&short), r#"conn#k#["public"]"#);
        let long = StoreKey {
            connection_key: "k".into(),
            schemas_key: format!("[{}]", vec!["\"s\""; 600].join(",")),
        };
        let pk = partition_key(&long);
        assert!(pk.starts_with("conn#k#sha256:") && pk.len() < 100, "{pk}");
    }

    #[test]
    fn gzip_round_trips() {
        let json = br#"{"a":[1,2,3]}"#;
        let gz = gzip(json).unwrap_or_default();
        assert_eq!(gunzip(&gz, json.len()).ok().as_deref(), Some(&json[..]));
    }
}
