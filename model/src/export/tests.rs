use super::*;
use crate::keys::{child_key, table_key};
use crate::testutil::{column, sample, table};

#[test]
fn mermaid_draws_every_table_with_its_columns_and_each_foreign_key_with_its_ends() {
    let out = mermaid(&sample());
    assert_eq!(
        out,
        "erDiagram\n\
         \x20   public_orders[\"public.orders\"] {\n\
         \x20       bigint id PK\n\
         \x20       bigint user_id FK\n\
         \x20       numeric(12_2) total\n\
         \x20   }\n\
         \x20   public_users[\"public.users\"] {\n\
         \x20       bigint id PK\n\
         \x20       text email UK\n\
         \x20       public_user_status status\n\
         \x20   }\n\
         \x20   public_users |o--o{ public_orders : \"orders_user_id_fkey\"\n"
    );
}

#[test]
fn a_not_null_one_to_one_reference_is_exactly_one_to_zero_or_one() {
    let mut s = sample();
    let key = table_key("public", "orders");
    s.columns
        .get_mut(&child_key(&key, "user_id"))
        .expect("user_id")
        .nullable = false;
    s.relationships
        .get_mut(&child_key(&key, "orders_user_id_fkey"))
        .expect("fk")
        .one_to_one = true;
    assert!(mermaid(&s).contains("public_users ||--o| public_orders"));
    assert!(dbml(&s).contains("\"public\".\"orders\".\"user_id\" - \"public\".\"users\".\"id\""));
}

/// A table whose name needs quoting, whose comment holds markup, quotes, pipes and a
/// line break, and a second table whose Mermaid id would collide with it.
fn awkward() -> Snapshot {
    let mut s = Snapshot::default();
    let weird = table_key("public", "\"Odd \"\"name\"\"\"");
    let mut t = table("public", "\"Odd \"\"name\"\"\"");
    t.comment = Some("<script>x</script> | a \"b\" 'c'\nsecond line".into());
    s.tables.insert(weird.clone(), t);
    let mut c = column(&weird, "\"Col|1\"", 1, "character varying(20)");
    c.comment = Some("has \"quotes\"\nand lines".into());
    c.default = Some("'a`b'::text".into());
    s.columns.insert(child_key(&weird, "\"Col|1\""), c);
    let other = table_key("\"public Odd\"", "\"name\"");
    s.tables.insert(other, table("\"public Odd\"", "\"name\""));
    s
}

#[test]
fn mermaid_ids_are_words_and_unique_and_names_keep_their_spelling_as_labels() {
    let out = mermaid(&awkward());
    let ids: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with('{'))
        .map(|l| l.trim().split('[').next().unwrap_or(""))
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{id}"
        );
    }
    assert!(out.contains("[\"public.Odd 'name'\"]"), "{out}");
    assert!(
        out.contains("character_varying(20) Col_1 \"has 'quotes' and lines\""),
        "{out}"
    );
}

#[test]
fn dbml_quotes_names_and_keeps_notes_on_one_line() {
    let out = dbml(&awkward());
    assert!(
        out.contains("Table \"public\".\"Odd \\\"name\\\"\" {"),
        "{out}"
    );
    assert!(out.contains("\"Col|1\" \"character varying(20)\" [default: `'a\\`b'::text`, note: 'has \"quotes\" and lines']"), "{out}");
    assert!(
        out.contains("Note: '<script>x</script> | a \"b\" \\'c\\' second line'"),
        "{out}"
    );
}

#[test]
fn dbml_has_enums_keys_and_refs_with_actions() {
    let mut s = sample();
    s.relationships
        .values_mut()
        .for_each(|r| r.on_delete = FkAction::Cascade);
    let out = dbml(&s);
    assert!(
        out.contains("Enum \"public\".\"user_status\" {\n  \"active\"\n  \"disabled\"\n}"),
        "{out}"
    );
    assert!(
        out.contains("  \"id\" \"bigint\" [pk, not null]\n"),
        "{out}"
    );
    assert!(
        out.contains("  \"email\" \"text\" [not null, unique]\n"),
        "{out}"
    );
    assert!(out.contains(
        "Ref \"orders_user_id_fkey\": \"public\".\"orders\".\"user_id\" > \"public\".\"users\".\"id\" [delete: cascade]"
    ), "{out}");
}

#[test]
fn markdown_documents_each_table_and_cannot_be_broken_by_a_comment() {
    let out = markdown(&sample());
    assert!(
        out.contains("- [public.orders](#publicorders)\n- [public.users](#publicusers)"),
        "{out}"
    );
    assert!(out.contains("## public.users\n\n_table_\n"), "{out}");
    assert!(
        out.contains("| `email` | `text` | no |  | UK |  |"),
        "{out}"
    );
    assert!(
        out.contains(
            "Referenced by:\n\n- [public.orders](#publicorders) (`user_id`), `orders_user_id_fkey`"
        ),
        "{out}"
    );
    assert!(
        out.contains("- (`user_id`) → [public.users](#publicusers) (`id`), `orders_user_id_fkey`"),
        "{out}"
    );
    assert!(
        out.contains("- `CREATE INDEX orders_user_id_idx ON public.orders USING btree (user_id)`"),
        "{out}"
    );

    let out = markdown(&awkward());
    assert!(!out.contains("<script>"), "{out}");
    assert!(
        out.contains("&lt;script&gt;x&lt;/script&gt; \\| a \"b\" 'c'<br>second line"),
        "{out}"
    );
    assert!(out.contains("| `Col\\|1` | `character varying(20)` | yes | `'a'b'::text` |  | has \"quotes\"<br>and lines |"), "{out}");
}
