//! Stage `load`, first half: the structural pass. Walks the raw TOML document (with spans)
//! against the file's generated JSON Schema, as taplo does, and reports every unknown key,
//! wrong type, missing key, unknown choice and malformed value of a file in one run, each at
//! its place. serde, which stops at the first error, reads only files that pass.
//!
//! The walk covers the keywords `schemars` writes for the site types (`$ref`, `anyOf` of an
//! optional value, `oneOf`/`enum`/`const` of a choice, `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `minimum`, `maximum`, `exclusiveMinimum` and the integer
//! `format`s); a value of a named type with a grammar is checked by the type's own parser
//! ([`super::types::grammar`]). The tests below hold the walk and serde to the same verdict
//! over the example sites, the bad-input corpus and mutations of the reference site.

use std::ops::Range;

use serde_json::Value as Json;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::types::grammar::{self, Expected, Grammar};
use crate::diagnostics::{self as diag, Code, Diagnostic};
use crate::sources::FileId;

/// Every structural problem of one parsed file, in document order.
pub fn check(file: FileId, text: &str, root: &DeTable<'_>, schema: &Json) -> Vec<Diagnostic> {
    let mut walk = Walk {
        file,
        text,
        root: schema,
        diags: Vec::new(),
    };
    let doc = Spanned::new(0..0, DeValue::Table(root.clone()));
    walk.value(&mut Vec::new(), &doc, schema);
    // The parser's tables are maps, not in document order.
    walk.diags
        .sort_by_key(|d| d.primary.as_ref().map_or(0, |l| l.span.start));
    walk.diags
}

/// The schema node a dotted table path leads to (following `$ref` and optional values), for
/// wording a syntax error with what the table should have been.
pub fn schema_at<'s>(schema: &'s Json, path: &[&str]) -> Option<&'s Json> {
    let mut node = resolve(schema, schema);
    for key in path {
        if let Some(items) = node.get("items") {
            node = resolve(schema, items);
        }
        node = resolve(schema, node.get("properties")?.get(*key)?);
    }
    Some(node)
}

/// Whether a schema node is a list (TOML array, `[[table]]`).
pub fn is_list(node: &Json) -> bool {
    types(node).contains(&"array")
}

/// Follows `$ref`s and unwraps an optional value (`anyOf: [X, {type: null}]`).
fn resolve<'s>(root: &'s Json, mut node: &'s Json) -> &'s Json {
    for _ in 0..32 {
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            match def(root, r) {
                Some(d) => node = d,
                None => return node,
            }
        } else if let Some(one) = optional(node) {
            node = one;
        } else {
            break;
        }
    }
    node
}

fn def<'s>(root: &'s Json, reference: &str) -> Option<&'s Json> {
    root.get("$defs")?.get(reference.strip_prefix("#/$defs/")?)
}

fn def_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/$defs/")
}

/// The one non-null alternative of an `anyOf`, when that is all it is.
fn optional(node: &Json) -> Option<&Json> {
    let alts = node.get("anyOf")?.as_array()?;
    let mut rest = alts
        .iter()
        .filter(|a| a.get("type").and_then(Json::as_str) != Some("null"));
    let one = rest.next()?;
    rest.next().is_none().then_some(one)
}

/// The TOML types a schema node admits, `null` left out (TOML has none).
fn types(node: &Json) -> Vec<&str> {
    match node.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect()
}

/// The string values a choice admits, when the node is a choice of strings.
fn choices(node: &Json) -> Option<Vec<&str>> {
    fn add<'s>(n: &'s Json, out: &mut Vec<&'s str>) -> Option<()> {
        if let Some(c) = n.get("const") {
            out.push(c.as_str()?);
        } else {
            for v in n.get("enum")?.as_array()? {
                out.push(v.as_str()?);
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    if let Some(alts) = node.get("oneOf").and_then(Json::as_array) {
        for a in alts {
            add(a, &mut out)?;
        }
    } else {
        add(node, &mut out)?;
    }
    Some(out)
}

/// A key or an index on the way down, for saying where a problem is.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index,
}

/// The table a path names, as its header reads: `[ceph.pool]`, or the file's top level.
fn table_name(path: &[Seg]) -> String {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index => None,
        })
        .collect();
    if keys.is_empty() {
        "the file".to_owned()
    } else {
        format!("[{}]", keys.join("."))
    }
}

/// `in [ceph.pool]`, or `at the top level`.
fn where_in(path: &[Seg]) -> String {
    if path.iter().all(|s| matches!(s, Seg::Index)) {
        "at the top level".to_owned()
    } else {
        format!("in {}", table_name(path))
    }
}

/// The first sentence of a schema description, on one line.
fn first_sentence(d: &str) -> String {
    let para = d.split("\n\n").next().unwrap_or(d).replace('\n', " ");
    match para.find(". ") {
        Some(i) => para[..=i].to_owned(),
        None => para,
    }
}

fn key_name(path: &[Seg]) -> &str {
    path.iter()
        .rev()
        .find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index => None,
        })
        .unwrap_or("value")
}

/// What a TOML value is, as a message says it.
fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

fn expected_word(t: &str) -> &'static str {
    match t {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a table",
        _ => "a value",
    }
}

/// A short rendering of a scalar for a message; long values (a ciphertext, a certificate) are
/// cut, and the renderer redacts known secrets from messages.
fn quoted(text: &str, span: &Range<usize>) -> String {
    let raw = text.get(span.clone()).unwrap_or("").trim();
    let cut: String = raw.chars().take(40).collect();
    let more = if cut.len() < raw.len() { "…" } else { "" };
    format!("`{}{more}`", crate::redact::escape_controls(&cut))
}

/// The nearest of `known` to `unknown`, if near enough to be a slip of the keyboard: the same
/// word in another case or with `-` for `_`, or a small edit distance for its length.
pub fn nearest<'k>(unknown: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let u = norm(unknown);
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = if norm(k) == u {
            0
        } else {
            strsim::damerau_levenshtein(&u, &norm(k))
        };
        let limit = (u.chars().count().max(k.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

struct Walk<'a> {
    file: FileId,
    text: &'a str,
    root: &'a Json,
    diags: Vec<Diagnostic>,
}

impl Walk<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn value(&mut self, path: &mut Vec<Seg>, v: &Spanned<DeValue<'_>>, node: &Json) {
        if node.as_bool() == Some(true) {
            return;
        }
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            let name = def_name(r).unwrap_or("");
            if name == "SealedValue" {
                return self.sealed(path, v);
            }
            if let Some(g) = grammar::grammar(name) {
                return self.grammar(path, v, g, node);
            }
            if let Some(d) = def(self.root, r) {
                return self.value(path, v, d);
            }
            return;
        }
        if let Some(one) = optional(node) {
            return self.value(path, v, one);
        }
        if let Some(allowed) = choices(node) {
            return self.choice(path, v, &allowed);
        }
        let ts = types(node);
        if ts.is_empty() {
            return;
        }
        let fits = ts.iter().any(|t| {
            matches!(
                (*t, v.get_ref()),
                ("string", DeValue::String(_))
                    | ("integer", DeValue::Integer(_))
                    | ("number", DeValue::Integer(_) | DeValue::Float(_))
                    | ("boolean", DeValue::Boolean(_))
                    | ("array", DeValue::Array(_))
                    | ("object", DeValue::Table(_))
            )
        });
        if !fits {
            return self.wrong_type(path, v, node, &ts);
        }
        match v.get_ref() {
            DeValue::Table(t) => self.table(path, v.span(), t, node),
            DeValue::Array(a) => {
                if let Some(items) = node.get("items") {
                    for item in a.iter() {
                        path.push(Seg::Index);
                        self.value(path, item, items);
                        path.pop();
                    }
                }
            }
            DeValue::Integer(_) | DeValue::Float(_) => self.range(path, v, node),
            _ => {}
        }
    }

    fn table(&mut self, path: &mut Vec<Seg>, span: Range<usize>, t: &DeTable<'_>, node: &Json) {
        let props = node.get("properties").and_then(Json::as_object);
        let extra = node.get("additionalProperties");
        // A required key that an unknown key is a slip for is reported once, as the slip.
        let mut suggested = Vec::new();
        for (k, v) in t.iter() {
            let name = k.get_ref().as_ref();
            path.push(Seg::Key(name.to_owned()));
            if let Some(p) = props.and_then(|p| p.get(name)) {
                self.value(path, v, p);
            } else if let Some(e) = extra.filter(|e| e.is_object()) {
                self.value(path, v, e);
            } else if extra.and_then(Json::as_bool) == Some(false) {
                path.pop();
                if let Some(s) = self.unknown_key(path, k, props) {
                    suggested.push(s);
                }
                continue;
            }
            path.pop();
        }
        let required = node.get("required").and_then(Json::as_array);
        for r in required.into_iter().flatten().filter_map(Json::as_str) {
            if !t.iter().any(|(k, _)| k.get_ref().as_ref() == r)
                && !suggested.contains(&r.to_owned())
            {
                self.missing(path, span.clone(), r, props.and_then(|p| p.get(r)));
            }
        }
    }

    fn unknown_key(
        &mut self,
        path: &[Seg],
        key: &Spanned<std::borrow::Cow<'_, str>>,
        props: Option<&serde_json::Map<String, Json>>,
    ) -> Option<String> {
        let known: Vec<&str> = props
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let table = if path.is_empty() {
            "the file's top level".to_owned()
        } else {
            table_name(path)
        };
        let name = key.get_ref().as_ref();
        let near = nearest(name, known.iter().copied());
        let help = match near {
            Some(k) => format!("did you mean `{k}`?"),
            None if known.is_empty() => format!("{table} takes no keys of its own"),
            None if known.len() <= 12 => {
                format!("the keys of {table} are: {}", known.join(", "))
            }
            None => format!(
                "{table} has {} keys; the schema (schemas/*.schema.json) lists them, and editors complete them from the `#:schema` line",
                known.len()
            ),
        };
        self.push(
            Diagnostic::new(
                diag::UNKNOWN_KEY,
                format!("unknown key `{}` {}", name.escape_debug(), where_in(path)),
            )
            .at(self.file, key.span(), "not a key of this table")
            .help(help),
        );
        near.map(str::to_owned)
    }

    fn missing(&mut self, path: &[Seg], span: Range<usize>, key: &str, prop: Option<&Json>) {
        let table = table_name(path);
        let label = if span.is_empty() {
            "at the top level of this file"
        } else {
            "in this table"
        };
        let what = prop
            .map(|p| resolve(self.root, p))
            .and_then(|p| {
                prop.and_then(|q| q.get("description"))
                    .or_else(|| p.get("description"))
            })
            .and_then(Json::as_str)
            .map(first_sentence);
        let to = if path.is_empty() {
            String::new()
        } else {
            format!(" to {table}")
        };
        let help = match what {
            Some(d) => format!("add `{key}`{to}: {d}"),
            None => format!("add `{key}`{to}"),
        };
        self.push(
            Diagnostic::new(
                diag::MISSING_FIELD,
                format!("{table} has no `{key}`, which is required"),
            )
            .at(self.file, span, label)
            .help(help),
        );
    }

    fn choice(&mut self, path: &[Seg], v: &Spanned<DeValue<'_>>, allowed: &[&str]) {
        let key = key_name(path);
        let list = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(s) = v.get_ref().as_str() else {
            self.push(
                Diagnostic::new(
                    diag::INVALID_VALUE,
                    format!("`{key}` takes one of {list}, not {}", kind(v.get_ref())),
                )
                .at(self.file, v.span(), "not one of the choices")
                .help(format!(
                    "write it as a quoted string, e.g. `{key} = \"{}\"`",
                    allowed.first().unwrap_or(&"")
                )),
            );
            return;
        };
        if allowed.contains(&s) {
            return;
        }
        let help = match nearest(s, allowed.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None => format!("use one of {list}"),
        };
        self.push(
            Diagnostic::new(
                diag::INVALID_VALUE,
                format!(
                    "`{}` is not a choice of `{key}`; it takes one of {list}",
                    crate::redact::escape_controls(s)
                ),
            )
            .at(self.file, v.span(), "not one of the choices")
            .help(help),
        );
    }

    fn grammar(&mut self, path: &[Seg], v: &Spanned<DeValue<'_>>, g: &Grammar, node: &Json) {
        match g.check(v.get_ref()) {
            Some(Ok(())) => {}
            Some(Err(message)) => self.push(
                Diagnostic::new(g.code, message)
                    .at(self.file, v.span(), "here")
                    .help(g.code.info().fix),
            ),
            None => {
                let t = match g.expected {
                    Expected::String => "string",
                    Expected::Integer => "integer",
                    Expected::Number => "number",
                };
                let desc = def(
                    self.root,
                    node.get("$ref").and_then(Json::as_str).unwrap_or(""),
                )
                .and_then(|d| d.get("description"))
                .and_then(Json::as_str);
                self.type_error(path, v, &[t], desc, g.code);
            }
        }
    }

    fn range(&mut self, path: &[Seg], v: &Spanned<DeValue<'_>>, node: &Json) {
        let key = key_name(path);
        let (lo, hi) = match node.get("format").and_then(Json::as_str) {
            Some("uint8") => (Some(0.0), Some(f64::from(u8::MAX))),
            Some("uint16") => (Some(0.0), Some(f64::from(u16::MAX))),
            Some("uint32") => (Some(0.0), Some(f64::from(u32::MAX))),
            // Above 2^53 the f64 compare is approximate; serde still refuses what overflows.
            #[allow(clippy::cast_precision_loss)]
            Some("uint" | "uint64") => (Some(0.0), Some(u64::MAX as f64)),
            _ => (None, None),
        };
        let lo = node.get("minimum").and_then(Json::as_f64).or(lo);
        let hi = node.get("maximum").and_then(Json::as_f64).or(hi);
        let above = node.get("exclusiveMinimum").and_then(Json::as_f64);
        let Some(n) = grammar::number(v.get_ref()) else {
            return;
        };
        let whole = matches!(v.get_ref(), DeValue::Integer(_)) || types(node) == ["integer"];
        let fmt = |x: f64| {
            if whole {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        };
        let too_large_int =
            matches!(v.get_ref(), DeValue::Integer(_)) && grammar::integer(v.get_ref()).is_none();
        let bad = !n.is_finite()
            || too_large_int
            || lo.is_some_and(|l| n < l)
            || hi.is_some_and(|h| n > h)
            || above.is_some_and(|a| n <= a);
        if !bad {
            return;
        }
        let accepted = match (lo, hi, above) {
            (_, Some(h), Some(a)) => format!("greater than {} and at most {}", fmt(a), fmt(h)),
            (_, None, Some(a)) => format!("greater than {}", fmt(a)),
            (Some(l), Some(h), None) => format!("from {} to {}", fmt(l), fmt(h)),
            (Some(l), None, None) => format!("at least {}", fmt(l)),
            (None, Some(h), None) => format!("at most {}", fmt(h)),
            (None, None, None) => "that fits in 64 bits".to_owned(),
        };
        let word = if whole { "a whole number" } else { "a number" };
        self.push(
            Diagnostic::new(
                diag::INVALID_VALUE,
                format!(
                    "`{key}` is {}; it takes {word} {accepted}",
                    quoted(self.text, &v.span())
                ),
            )
            .at(self.file, v.span(), "out of range")
            .help("check the number for a typo"),
        );
    }

    fn wrong_type(&mut self, path: &[Seg], v: &Spanned<DeValue<'_>>, node: &Json, ts: &[&str]) {
        let desc = node.get("description").and_then(Json::as_str);
        let key = key_name(path).to_owned();
        // `[node]` where the schema has a list of tables: the header is the mistake.
        if ts == ["array"]
            && let DeValue::Table(_) = v.get_ref()
            && let Some(header) = self.header(&v.span())
            && !header.0
        {
            let name = header.1;
            self.push(
                Diagnostic::new(
                    diag::INVALID_VALUE,
                    format!("`{name}` is a list of tables, but `[{name}]` makes a single table"),
                )
                .at(self.file, v.span(), "a single table")
                .help(format!(
                    "write the header as `[[{name}]]`: each `[[{name}]]` starts one more entry of the list"
                )),
            );
            return;
        }
        if ts == ["object"]
            && let DeValue::Array(a) = v.get_ref()
            && let Some(first) = a.first()
            && let Some(header) = self.header(&first.span())
            && header.0
        {
            let name = header.1;
            self.push(
                Diagnostic::new(
                    diag::INVALID_VALUE,
                    format!("`{name}` is a single table, but `[[{name}]]` makes a list of tables"),
                )
                .at(self.file, first.span(), "an entry of a list")
                .help(format!("write the header as `[{name}]`, once")),
            );
            return;
        }
        let _ = key;
        self.type_error(path, v, ts, desc, diag::INVALID_VALUE);
    }

    /// The table header at `span` (`[a.b]` or `[[a.b]]`): whether it is an array header, and
    /// the dotted name inside the brackets.
    fn header(&self, span: &Range<usize>) -> Option<(bool, String)> {
        let s = self.text.get(span.clone())?.trim();
        let (array, inner) = if let Some(i) = s.strip_prefix("[[") {
            (true, i.strip_suffix("]]")?)
        } else {
            (false, s.strip_prefix('[')?.strip_suffix(']')?)
        };
        let name: String = inner
            .split('.')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(".");
        Some((array, name))
    }

    fn type_error(
        &mut self,
        path: &[Seg],
        v: &Spanned<DeValue<'_>>,
        ts: &[&str],
        desc: Option<&str>,
        code: Code,
    ) {
        let key = key_name(path);
        let expected = ts
            .iter()
            .map(|t| expected_word(t))
            .collect::<Vec<_>>()
            .join(" or ");
        let found = kind(v.get_ref());
        let shown = match v.get_ref() {
            DeValue::String(_)
            | DeValue::Integer(_)
            | DeValue::Float(_)
            | DeValue::Boolean(_)
            | DeValue::Datetime(_) => format!(" {}", quoted(self.text, &v.span())),
            _ => String::new(),
        };
        let inner = v.get_ref().as_str().map(str::trim);
        let help = match (ts, v.get_ref()) {
            (["integer"] | ["number"], DeValue::String(_))
                if inner.is_some_and(|s| s.parse::<f64>().is_ok()) =>
            {
                format!("remove the quotes: `{key} = {}`", inner.unwrap_or(""))
            }
            (["boolean"], DeValue::String(_)) if matches!(inner, Some("true" | "false")) => {
                format!("remove the quotes: `{key} = {}`", inner.unwrap_or(""))
            }
            (["string"], DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_)) => {
                let raw = self.text.get(v.span()).unwrap_or("").trim();
                format!("quote it: `{key} = \"{raw}\"`")
            }
            (
                ["array"],
                DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_),
            ) => {
                let raw = self.text.get(v.span()).unwrap_or("").trim();
                format!("write a list, even of one: `{key} = [{raw}]`")
            }
            _ => match desc {
                Some(d) => format!(
                    "`{key}` is {}",
                    lower_first(first_sentence(d).trim_end_matches('.'))
                ),
                None => format!("write {expected} here"),
            },
        };
        self.push(
            Diagnostic::new(
                code,
                format!("`{key}` takes {expected}, not {found}{shown}"),
            )
            .at(
                self.file,
                v.span(),
                format!("{found}, where {expected} belongs"),
            )
            .help(help),
        );
    }

    /// A secret field: only the sealed form, and nothing of what was typed into it may reach
    /// a message or a snippet (the span is marked redacted, the message quotes nothing).
    fn sealed(&mut self, path: &[Seg], v: &Spanned<DeValue<'_>>) {
        let plain = |what: String| {
            Diagnostic::new(diag::PLAINTEXT_SECRET, what)
                .at(self.file, v.span(), "plaintext here (masked)")
                .help(diag::PLAINTEXT_SECRET.info().fix)
                .redacted()
        };
        let DeValue::Table(t) = v.get_ref() else {
            let d = plain(format!(
                "a plain {} in a secret field; only a sealed value `{{ sealed = \"…\", namespace = …, name = …, key = … }}` is accepted",
                match v.get_ref() {
                    DeValue::String(_) => "string",
                    DeValue::Integer(_) | DeValue::Float(_) => "number",
                    DeValue::Boolean(_) => "boolean",
                    DeValue::Array(_) => "array",
                    _ => "value",
                }
            ));
            return self.push(d);
        };
        let keys = ["sealed", "scope", "namespace", "name", "key"];
        for (k, val) in t.iter() {
            let name = k.get_ref().as_ref();
            if !keys.contains(&name) {
                let d = plain(format!(
                    "`{}` is not a key of a sealed value (sealed, scope, namespace, name, key); the table is masked in case it holds a secret",
                    name.escape_debug()
                ));
                return self.push(d);
            }
            if name == "sealed" && !val.get_ref().is_str() {
                let d = plain(
                    "`sealed` holds something other than a string; it takes the ciphertext `casa-build seal` writes"
                        .to_owned(),
                );
                return self.push(d);
            }
        }
        let mut inner = path.to_vec();
        for (k, val) in t.iter() {
            let name = k.get_ref().as_ref();
            if name == "sealed" {
                continue;
            }
            inner.push(Seg::Key(name.to_owned()));
            match val.get_ref().as_str() {
                None => self.type_error(&inner, val, &["string"], None, diag::INVALID_VALUE),
                Some(s) if name == "scope" && s.parse::<super::types::Scope>().is_err() => {
                    self.choice(&inner, val, &["strict", "namespace-wide", "cluster-wide"]);
                }
                Some(_) => {}
            }
            inner.pop();
        }
        for required in ["sealed", "key"] {
            if !t.iter().any(|(k, _)| k.get_ref().as_ref() == required) {
                let what = if required == "sealed" {
                    "the ciphertext `casa-build seal` writes"
                } else {
                    "the Secret key it was sealed for"
                };
                self.push(
                    Diagnostic::new(
                        diag::MISSING_FIELD,
                        format!("the sealed value `{}` has no `{required}`, which is required", key_name(path)),
                    )
                    .at(self.file, v.span(), "in this sealed value")
                    .help(format!("add `{required}`: {what}; `casa-build seal LOCATION` writes the whole value")),
                );
            }
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep `Flux`, `IPv4`: lower only a capital followed by a lower-case letter.
        Some(f) if f.is_uppercase() && c.clone().next().is_some_and(char::is_lowercase) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Sources;

    fn run(text: &str) -> Vec<(Code, String, String, (usize, usize))> {
        let mut sources = Sources::new();
        let id = sources.add("site.toml", text);
        let root = DeTable::parse(text).unwrap();
        let schema = super::super::site_schema();
        check(id, text, root.get_ref(), &schema)
            .into_iter()
            .map(|d| {
                let at = d.primary.as_ref().unwrap().span.start;
                let (l, c) = sources.get(id).unwrap().line_col(at);
                (d.code, d.message, d.help.unwrap_or_default(), (l, c))
            })
            .collect()
    }

    const SMALL: &str = include_str!("../../examples/small-site/site.toml");

    /// The small example site with `old` replaced by `new` (each exactly once).
    /// Line and column (1-based) of the first `needle` in `text`.
    fn pos(text: &str, needle: &str) -> (usize, usize) {
        let at = text.find(needle).unwrap();
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }

    fn edited(edits: &[(&str, &str)]) -> String {
        let mut text = SMALL.to_owned();
        for (old, new) in edits {
            assert_eq!(text.matches(old).count(), 1, "{old}");
            text = text.replace(old, new);
        }
        text
    }

    #[test]
    fn a_valid_file_has_no_finding() {
        assert_eq!(run(SMALL), vec![]);
    }

    #[test]
    fn three_mistakes_are_three_findings_with_near_names() {
        let text = edited(&[
            ("domain = \"testbed", "domian = \"testbed"),
            ("interval = \"5m\"", "interval = \"ten minutes\""),
            ("port = 8443", "port = \"8443\""),
        ]);
        let found = run(&text);
        let codes: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            codes,
            [diag::UNKNOWN_KEY, diag::INVALID_VALUE, diag::INVALID_VALUE],
            "{found:#?}"
        );
        // The slip is one error: the required `domain` it stands for is not reported again.
        assert_eq!(found[0].1, "unknown key `domian` in [site]");
        assert_eq!(found[0].2, "did you mean `domain`?");
        assert_eq!(found[0].3, (14, 1));
        assert!(
            found[1]
                .1
                .starts_with("`ten minutes` is not a Flux interval"),
            "{found:#?}"
        );
        assert_eq!(found[1].3, (22, 12));
        assert_eq!(
            found[2].1,
            "`port` takes a whole number, not a string `\"8443\"`"
        );
        assert_eq!(found[2].2, "remove the quotes: `port = 8443`");
        assert_eq!(found[2].3, pos(&text, "\"8443\""));
    }

    #[test]
    fn a_single_table_where_a_list_belongs_says_double_brackets() {
        let text = edited(&[("[[node_class]]", "[node_class]")]);
        let found = run(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].1,
            "`node_class` is a list of tables, but `[node_class]` makes a single table"
        );
        assert!(found[0].2.contains("`[[node_class]]`"), "{found:#?}");
        assert_eq!(found[0].3, pos(&text, "[node_class]"));
        let text = edited(&[
            ("domain = \"testbed", "domian = \"testbed"),
            ("[site]", "[[site]]"),
        ]);
        let found = run(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].2, "write the header as `[site]`, once");
    }

    #[test]
    fn choices_and_ranges_name_what_is_accepted() {
        let text = edited(&[
            ("router_id = 20", "router_id = -1"),
            ("cores = 32", "cores = 32.5"),
        ]);
        let found = run(&text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0]
                .1
                .starts_with("`router_id` is `-1`; it takes a whole number from 0 to"),
            "{found:#?}"
        );
        assert_eq!(
            found[1].1,
            "`cores` takes a whole number, not a decimal number `32.5`"
        );
    }

    #[test]
    fn nearest_finds_slips_and_nothing_far() {
        let keys = ["storage", "cpu_limit", "memory_limit"];
        assert_eq!(nearest("storge", keys), Some("storage"));
        assert_eq!(nearest("cpu_limt", keys), Some("cpu_limit"));
        assert_eq!(nearest("CPU-LIMIT", keys), Some("cpu_limit"));
        assert_eq!(nearest("gpus", keys), None);
    }

    #[test]
    fn a_plain_secret_is_masked_and_quoted_nowhere() {
        let schema = super::super::instance_schema();
        let text = "[auth]\nclient_secret = \"hunter2\"\n";
        let root = DeTable::parse(text).unwrap();
        let found = check(FileId(0), text, root.get_ref(), &schema);
        let d = found
            .iter()
            .find(|d| d.code == diag::PLAINTEXT_SECRET)
            .expect("CB005");
        assert!(d.redact);
        assert!(!d.message.contains("hunter2"));
        assert_eq!(d.primary.as_ref().unwrap().span, 23..32);
    }

    /// The walk's verdict and serde's on one text: (walk found nothing, serde read it).
    fn verdicts(text: &str, instance: bool) -> Option<(bool, bool, Vec<String>)> {
        let root = DeTable::parse(text).ok()?;
        let schema = if instance {
            super::super::instance_schema()
        } else {
            super::super::site_schema()
        };
        let found = check(FileId(0), text, root.get_ref(), &schema);
        let serde = if instance {
            toml::from_str::<super::super::InstanceFile>(text).map(drop)
        } else {
            toml::from_str::<super::super::SiteFile>(text).map(drop)
        };
        let mut why: Vec<String> = found.iter().map(|d| d.message.clone()).collect();
        if let Err(e) = &serde {
            why.push(format!("serde: {}", e.message()));
        }
        Some((found.is_empty(), serde.is_ok(), why))
    }

    fn site_files() -> Vec<(std::path::PathBuf, bool)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sites = vec![root.to_path_buf()];
        for dir in ["examples", "tests/bad-input"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                sites.push(e.unwrap().path());
            }
        }
        let mut files = Vec::new();
        for site in sites {
            if site.join("site.toml").is_file() {
                files.push((site.join("site.toml"), false));
            }
            if let Ok(dir) = std::fs::read_dir(site.join("instances")) {
                for e in dir {
                    let p = e.unwrap().path();
                    if p.extension().is_some_and(|x| x == "toml") {
                        files.push((p, true));
                    }
                }
            }
        }
        files
    }

    #[test]
    fn the_walk_and_serde_agree_on_every_site_file_and_corpus_case() {
        let files = site_files();
        assert!(files.len() > 100, "{}", files.len());
        for (path, instance) in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some((walk, serde, why)) = verdicts(&text, instance) {
                assert_eq!(walk, serde, "{}: {why:#?}", path.display());
            }
        }
    }

    /// Every key of the reference site renamed, and every scalar retyped, one at a time: the
    /// walk refuses exactly what serde refuses, so no mistake reaches serde's wording and no
    /// valid file is refused.
    #[test]
    fn the_walk_and_serde_agree_on_mutations_of_the_reference_site() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (file, instance) in [("site.toml", false), ("instances/cms-prod.toml", true)] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let doc = DeTable::parse(&text).unwrap();
            let mut edits: Vec<(Range<usize>, &str)> = Vec::new();
            fn spans(t: &DeTable<'_>, text: &str, out: &mut Vec<(Range<usize>, &'static str)>) {
                for (k, v) in t.iter() {
                    if text.get(k.span()).is_some_and(|s| !s.contains('"')) {
                        out.push((k.span(), "zz_unknown"));
                    }
                    match v.get_ref() {
                        DeValue::Table(t) => spans(t, text, out),
                        DeValue::Array(a) => {
                            for item in a.iter() {
                                if let DeValue::Table(t) = item.get_ref() {
                                    spans(t, text, out);
                                } else {
                                    out.push((item.span(), "\"x\""));
                                    out.push((item.span(), "7"));
                                }
                            }
                        }
                        _ => {
                            for to in ["\"x\"", "7", "-1", "2.5", "true", "[1]", "{ a = 1 }"] {
                                out.push((v.span(), to));
                            }
                        }
                    }
                }
            }
            spans(doc.get_ref(), &text, &mut edits);
            assert!(edits.len() > 100, "{file}: {}", edits.len());
            let mut refused = 0;
            for (span, to) in edits {
                let mutated = format!("{}{to}{}", &text[..span.start], &text[span.end..]);
                if let Some((walk, serde, why)) = verdicts(&mutated, instance) {
                    refused += usize::from(!walk);
                    assert_eq!(walk, serde, "{file}: `{}` -> `{to}`: {why:#?}", &text[span]);
                }
            }
            assert!(refused > 100, "{file}: {refused}");
        }
    }
}
