//! Writes a sealed value into a TOML source in place: toml_edit keeps every other byte of the
//! file (comments, order, spacing) as it was.

use toml_edit::{DocumentMut, InlineTable, Item, TableLike, Value};

use super::Scope;

/// What to write at a secret location.
#[derive(Clone)]
pub struct SealedEntry<'a> {
    pub sealed: &'a str,
    pub scope: Scope,
    pub namespace: &'a str,
    pub name: &'a str,
    pub key: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the file is not valid TOML: {0}")]
    Parse(String),
    #[error("no `{segment}` at `{path}` in the file")]
    NoSuchPath { path: String, segment: String },
}

/// Returns `text` with the value at `path` (table keys and array-of-tables indices) set to
/// the sealed entry, as an inline table.
pub fn write_sealed(
    text: &str,
    path: &[String],
    entry: &SealedEntry<'_>,
) -> Result<String, EditError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| EditError::Parse(e.message().to_owned()))?;
    let Some((last, parents)) = path.split_last() else {
        return Err(EditError::NoSuchPath {
            path: String::new(),
            segment: String::new(),
        });
    };
    let missing = |i: usize| EditError::NoSuchPath {
        path: path[..=i].join("."),
        segment: path[i].clone(),
    };
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    let mut i = 0;
    while i < parents.len() {
        let item = table.get_mut(&parents[i]).ok_or_else(|| missing(i))?;
        match parents.get(i + 1).and_then(|s| s.parse::<usize>().ok()) {
            Some(idx) => {
                let arr = item.as_array_of_tables_mut().ok_or_else(|| missing(i))?;
                table = arr.get_mut(idx).ok_or_else(|| missing(i + 1))?;
                i += 2;
            }
            None => {
                table = item.as_table_like_mut().ok_or_else(|| missing(i))?;
                i += 1;
            }
        }
    }
    let mut inline = InlineTable::new();
    inline.insert("sealed", entry.sealed.into());
    if entry.scope != Scope::Strict {
        inline.insert("scope", entry.scope.as_str().into());
    }
    if entry.scope != Scope::ClusterWide {
        inline.insert("namespace", entry.namespace.into());
    }
    if entry.scope == Scope::Strict {
        inline.insert("name", entry.name.into());
    }
    inline.insert("key", entry.key.into());
    inline.fmt();
    let new = Item::Value(Value::InlineTable(inline));
    match table.get_mut(last) {
        // Replacing keeps the key where it was, with its comments.
        Some(existing) => {
            let decor = existing.as_value().map(|v| v.decor().clone());
            *existing = new;
            if let (Some(decor), Some(v)) = (decor, existing.as_value_mut()) {
                *v.decor_mut() = decor;
            }
        }
        None => {
            table.insert(last, new);
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# head\n[auth]\nclient = \"x\"   # keep me\n\n[[peer]]\nname = \"a\"\n\n[[peer]]\nname = \"b\"\npassword = { sealed = \"old\", namespace = \"n\", name = \"s\", key = \"b\" }  # pw\n";

    fn entry(sealed: &str) -> SealedEntry<'_> {
        SealedEntry {
            sealed,
            scope: Scope::Strict,
            namespace: "ns",
            name: "sec",
            key: "k",
        }
    }

    #[test]
    fn adds_a_key_keeping_every_other_byte() {
        let out =
            write_sealed(SRC, &["auth".into(), "client_secret".into()], &entry("AgA")).unwrap();
        let added = "client_secret = { sealed = \"AgA\", namespace = \"ns\", name = \"sec\", key = \"k\" }\n";
        assert_eq!(
            out,
            SRC.replacen("# keep me\n", &format!("# keep me\n{added}"), 1)
        );
    }

    #[test]
    fn replaces_inside_an_array_of_tables_keeping_the_comment() {
        let out = write_sealed(
            SRC,
            &["peer".into(), "1".into(), "password".into()],
            &entry("AgB"),
        )
        .unwrap();
        assert!(out.contains("password = { sealed = \"AgB\", namespace = \"ns\", name = \"sec\", key = \"k\" }  # pw\n"), "{out}");
        assert_eq!(out.lines().count(), SRC.lines().count());
        assert!(out.starts_with("# head\n[auth]\nclient = \"x\"   # keep me\n"));
    }

    #[test]
    fn scopes_write_only_their_identity() {
        let mut e = entry("AgC");
        e.scope = Scope::ClusterWide;
        let out = write_sealed(SRC, &["auth".into(), "s".into()], &e).unwrap();
        assert!(
            out.contains("s = { sealed = \"AgC\", scope = \"cluster-wide\", key = \"k\" }"),
            "{out}"
        );
    }

    #[test]
    fn a_missing_path_is_an_error() {
        assert!(matches!(
            write_sealed(SRC, &["nope".into(), "x".into()], &entry("A")),
            Err(EditError::NoSuchPath { .. })
        ));
        assert!(matches!(
            write_sealed(SRC, &["peer".into(), "7".into(), "x".into()], &entry("A")),
            Err(EditError::NoSuchPath { .. })
        ));
    }
}
