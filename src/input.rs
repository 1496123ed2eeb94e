//! Checks on request text that must hold before anything is looked up, resolved or
//! connected to: no control characters (NUL above all: PostgreSQL cannot hold it, and a
//! driver would send it) in names, keys and URL parts, an unambiguous URL authority, and
//! `before` times PostgreSQL can hold.
//!
//! Owns only the rules; the HTTP layer names the field. Its messages must never repeat
//! the text they refuse (it may be a password).

/// The first control character (C0, DEL or C1) in `s`, as a name for the message.
pub fn control_char(s: &str) -> Option<&'static str> {
    s.chars().find(|c| c.is_control()).map(|c| match c {
        '\0' => "a NUL byte",
        '\n' | '\r' => "a line break",
        '\t' => "a tab",
        _ => "a control character",
    })
}

/// Percent-decodes `s` (a `%` not followed by two hex digits is kept as is).
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Checks a target database URL's text before it is parsed: no control character,
/// written or percent-encoded, and at most one `@` in the authority (an unencoded `@` in
/// a password makes the rest of the password the host name, which would then be echoed,
/// logged and sent to DNS). The message never repeats any part of the URL.
pub fn check_target_url(raw: &str) -> Result<(), String> {
    if let Some(what) = control_char(raw) {
        return Err(format!("holds {what}; remove it"));
    }
    if String::from_utf8_lossy(&percent_decoded(raw))
        .chars()
        .any(|c| c.is_control())
    {
        return Err("holds a percent-encoded control character (such as %00); remove it".into());
    }
    if let Some((_, rest)) = raw.split_once("://") {
        // The authority ends at the first `/`, `?` or `#`.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if rest[..authority_end].matches('@').count() > 1 {
            return Err(
                "has more than one '@' before the host: percent-encode '@' in the user name or password as %40"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Checks a `before` time PostgreSQL (and every store) can hold: RFC 3339, a year from
/// 1 to 9999 in UTC and in the offset given, an offset within ±15:59.
pub fn check_before(s: &str) -> Result<(), String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "must be an RFC 3339 time (a nextBefore value)".to_string())?;
    let offset_minutes = i32::from(t.offset().whole_minutes()).abs();
    if offset_minutes > 15 * 60 + 59 {
        return Err("has a UTC offset beyond ±15:59".into());
    }
    let utc = t.to_offset(time::UtcOffset::UTC);
    for year in [t.year(), utc.year()] {
        if !(1..=9999).contains(&year) {
            return Err("must be a time between the years 1 and 9999".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_control_characters_or_two_ats_are_refused_without_repeating_them() {
        for (url, part) in [
            ("postgres://u:p\0w@h/db", "NUL"),
            ("postgres://u:p%00w@h/db", "%00"),
            ("postgres://u:pw@h/d%0Ab", "%00"),
            ("postgres://u:pw@h/db%7f", "%00"),
            ("postgres://u:pw@h/db\n", "line break"),
        ] {
            let e = check_target_url(url).unwrap_err();
            assert!(e.contains(part), "{url}: {e}");
            assert!(!e.contains("pw") && !e.contains("p\0w"), "{e}");
        }
        let e = check_target_url("postgres://u:pa@ss@evil.example/db").unwrap_err();
        assert!(e.contains("%40"), "{e}");
        assert!(
            !e.contains("pa@") && !e.contains("ss@") && !e.contains("evil"),
            "{e}"
        );
        assert!(check_target_url("postgres://u:pa@ss@h:5432/db?sslmode=require").is_err());
        for ok in [
            "postgres://u:pa%40ss@h/db",
            "postgres://u:pw@h/db?options=a@b",
            "postgres://h/db",
            "postgres://u@h/db#frag@x",
        ] {
            assert!(check_target_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn before_values_postgres_cannot_hold_are_refused() {
        for bad in [
            "0000-01-01T00:00:00Z",
            "2026-01-01T00:00:00+16:00",
            "2026-01-01T00:00:00-23:59",
            "0001-01-01T00:00:00+01:00",
            "yesterday",
        ] {
            assert!(check_before(bad).is_err(), "{bad}");
        }
        for ok in [
            "2026-12-02T05:00:00.123Z",
            "2026-12-02T05:00:00+15:59",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert!(check_before(ok).is_ok(), "{ok}");
        }
    }
}
