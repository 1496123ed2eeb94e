//! Time on the request path: the ISO-8601 capture times snapshots carry, and how old
//! they are.
//!
//! Owns the one format every `capturedAt` is written in. It must never decide
//! freshness (the tiers compare an age with their own limits).

use std::time::Duration;

/// Now, as a capture time: `2026-01-02T03:04:05.678Z`.
pub fn now_iso() -> String {
    format_iso(::time::OffsetDateTime::now_utc())
}

fn format_iso(t: ::time::OffsetDateTime) -> String {
    let f = ::time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Age of an ISO-8601 capture time; unparseable times count as infinitely old.
pub(crate) fn age_of(captured_at: &str) -> Duration {
    ::time::OffsetDateTime::parse(
        captured_at,
        &::time::format_description::well_known::Rfc3339,
    )
    .ok()
    .map(|t| {
        let d = ::time::OffsetDateTime::now_utc() - t;
        Duration::from_millis(d.whole_milliseconds().max(0) as u64)
    })
    .unwrap_or(Duration::MAX)
}

/// An age as the wire's milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_times_round_trip_and_bad_ones_are_infinitely_old() {
        let now = now_iso();
        assert_eq!(now.len(), "2026-01-02T03:04:05.678Z".len(), "{now}");
        assert!(age_of(&now) < Duration::from_secs(60));
        assert_eq!(age_of("yesterday"), Duration::MAX);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
