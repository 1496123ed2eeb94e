//! Stable keys. Identifier parts arrive already quoted the way PostgreSQL's `quote_ident`
//! writes them (the catalog queries quote them), so a key is the parts joined with dots
//! and stays unambiguous with dots, spaces or capitals inside names.
//!
//! Never builds a key from an OID, and never quotes by itself what the server quoted.

/// `schema.table`
pub fn table_key(schema: &str, table: &str) -> String {
    let mut k = String::with_capacity(schema.len() + table.len() + 1);
    k.push_str(schema);
    k.push('.');
    k.push_str(table);
    k
}

/// `schema.table.child` for a column, constraint or index of the table `table_key`.
pub fn child_key(table_key: &str, child: &str) -> String {
    let mut k = String::with_capacity(table_key.len() + child.len() + 1);
    k.push_str(table_key);
    k.push('.');
    k.push_str(child);
    k
}

/// Splits a key into its identifier parts, honouring double-quoted parts (`""` inside
/// quotes is a literal quote). Returns `None` when quotes are unbalanced or a part is
/// empty.
pub fn split_key(key: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    let mut quoted_part = false;
    loop {
        match chars.next() {
            None => break,
            Some('"') if cur.is_empty() && !quoted_part => {
                quoted_part = true;
                cur.push('"');
                loop {
                    match chars.next() {
                        None => return None,
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                cur.push_str("\"\"");
                            } else {
                                cur.push('"');
                                break;
                            }
                        }
                        Some(c) => cur.push(c),
                    }
                }
                match chars.peek() {
                    None | Some('.') => {}
                    Some(_) => return None,
                }
            }
            Some('.') => {
                if cur.is_empty() {
                    return None;
                }
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            Some('"') => return None,
            Some(c) => cur.push(c),
        }
    }
    if cur.is_empty() {
        return None;
    }
    parts.push(cur);
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_and_plain_parts() {
        assert_eq!(
            split_key(r#"public."Order Items""#).unwrap(),
            vec!["public", r#""Order Items""#]
        );
        assert_eq!(
            split_key(r#""a.b"."c""d".x"#).unwrap(),
            vec![r#""a.b""#, r#""c""d""#, "x"]
        );
        assert!(split_key("public.").is_none());
        assert!(split_key(r#"public."open"#).is_none());
        assert!(split_key(r#"pub"lic.x"#).is_none());
    }

    #[test]
    fn builds_keys() {
        let t = table_key("public", r#""Order Items""#);
        assert_eq!(t, r#"public."Order Items""#);
        assert_eq!(child_key(&t, "qty"), r#"public."Order Items".qty"#);
    }
}
