//! Printed values as holes: a template's text is parsed once per shape, not once per value.
//!
//! A `*.yaml.j2` template prints every value as JSON, and the YAML parse of that JSON gives the
//! value back. So the parse can be skipped for the values: the template renders with each
//! printed value replaced by a token (`-730000000000000007`, a fixed-width integer), the text
//! (its literal YAML and the tokens) is parsed into a skeleton, and each token of the skeleton
//! is replaced by the value itself. Units whose templates take the same branches render the
//! same text, so 100 instances parse one skeleton; the Ceph cluster's device lists are never
//! printed nor parsed at all. The objects are the ones the text round trip made: every case
//! the argument below does not cover goes the old way (render with the plain formatter, parse).
//!
//! Why a token stands for its value exactly:
//! - It is used only where output goes straight to the text: templates with no capture (no
//!   `{% set %}` block, filter or call block, macro, include, import, inheritance, recursive
//!   loop), so no token reaches a filter or a test; and only for values that are not safe
//!   strings (those are printed raw, as before).
//! - In the skeleton each token must be found exactly once, as a whole integer scalar (not
//!   under a `<<` key) or a whole mapping key, and nowhere else: in a comment it is missing,
//!   in a quoted or block scalar or beside other characters it is part of a string or another
//!   number, behind an alias it is found twice. Then its place held a plain scalar, where the
//!   JSON text parses as the value.
//! - Values are taken only where their JSON text parses back unchanged: null, booleans, `i64`
//!   integers, floats printed without an exponent, strings of YAML-printable characters,
//!   lists and string-keyed maps of those. Any other value is printed as JSON, as before.
//! - Any render error, parse error or failed check re-renders the template with the plain
//!   formatter, so errors (strict undefined values included) read as before.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use minijinja::value::{ObjectRepr, ValueKind};
use minijinja::{AutoEscape, Error, Output, State, Value as Jinja};
use serde_json::{Map, Number, Value};

/// Tokens are `-(TOKEN_BASE + index)`: 18 digits for every index below 10^16.
const TOKEN_BASE: i64 = 730_000_000_000_000_000;
/// What every token's text starts with; text holding it otherwise is not filled.
const TOKEN_PREFIX: &str = "-730000000";

fn token(index: usize) -> String {
    format!("-{}", TOKEN_BASE + index as i64)
}

thread_local! {
    /// The values printed by the render under way, when it renders with holes.
    static HOLES: RefCell<Option<Vec<Value>>> = const { RefCell::new(None) };
}

/// The formatter of the environment that renders with holes.
pub(super) fn formatter(out: &mut Output, state: &mut State, value: &Jinja) -> Result<(), Error> {
    if value.is_undefined() {
        // The plain environment's render says which value was undefined.
        return Err(Error::new(
            minijinja::ErrorKind::UndefinedError,
            "undefined value",
        ));
    }
    if matches!(state.auto_escape(), AutoEscape::Json)
        && !value.is_safe()
        && let Some(v) = hole_value(value, 0)
    {
        let index = HOLES.with(|h| {
            h.borrow_mut().as_mut().map(|holes| {
                holes.push(v);
                holes.len() - 1
            })
        });
        if let Some(i) = index {
            return out.write_str(&token(i)).map_err(Error::from);
        }
    }
    minijinja::escape_formatter(out, state, value)
}

/// Renders `f` collecting the values it prints as holes.
pub(super) fn with_holes<T>(f: impl FnOnce() -> T) -> (T, Vec<Value>) {
    HOLES.with(|h| *h.borrow_mut() = Some(Vec::new()));
    let result = f();
    let holes = HOLES.with(|h| h.borrow_mut().take()).unwrap_or_default();
    (result, holes)
}

/// Whether a template may render with holes: its source has no construct that captures
/// output (a token there could reach a filter, a test or a comparison). One exception: macros
/// imported (`{% import "X" as m %}`) from a template that is otherwise capture-free and whose
/// macros call no macro, when every use is a print of the call, `{{ m.name(...) }}`: the
/// macro's output (a safe string) then goes to the text as it is.
pub(super) fn fillable(source: &str, lookup: impl Fn(&str) -> Option<String>) -> bool {
    let mut rest = source.to_owned();
    while let Some((start, end, module, alias)) = find_import(&rest) {
        let Some(macros) = lookup(&module) else {
            return false;
        };
        if !macro_module(&macros) || !only_printed_calls(&rest, &alias) {
            return false;
        }
        rest.replace_range(start..end, "");
    }
    capture_free(&rest, false)
}

/// Whether no tag of `source` captures output: a `set` block, a `filter` or `call` block, a
/// recursive loop, an include, import or inheritance (and a macro, unless `macros_allowed`);
/// nor does any expression call `caller()`.
fn capture_free(source: &str, macros_allowed: bool) -> bool {
    tags(source).all(|tag| {
        let word = tag.split_whitespace().next().unwrap_or("");
        match word {
            "set" => tag.contains('='),
            "for" => !tag.split_whitespace().any(|w| w == "recursive"),
            "macro" | "endmacro" => macros_allowed,
            "filter" | "call" | "include" | "import" | "from" | "extends" | "block" => false,
            _ => true,
        }
    }) && !source.contains("caller")
}

/// The insides of the `{% ... %}` tags of a template, without whitespace control marks.
fn tags(source: &str) -> impl Iterator<Item = &str> {
    source.split("{%").skip(1).map(|t| {
        t.split("%}")
            .next()
            .unwrap_or(t)
            .trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace())
    })
}

/// The first `{% import "X" as m %}` (with or without `-`): its span, X and m.
fn find_import(source: &str) -> Option<(usize, usize, String, String)> {
    let at = source.find("import")?;
    let start = source[..at].rfind("{%")?;
    let end = at + source[at..].find("%}")? + 2;
    let inner = source[start + 2..end - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
    let words: Vec<&str> = inner.split_whitespace().collect();
    match words.as_slice() {
        ["import", module, "as", alias]
            if module.len() > 2 && module.starts_with('"') && module.ends_with('"') =>
        {
            let alias = (*alias).to_owned();
            alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| (start, end, module[1..module.len() - 1].to_owned(), alias))
        }
        _ => None,
    }
}

/// A template of macros that capture nothing else and call no macro.
fn macro_module(source: &str) -> bool {
    if !capture_free(source, true) {
        return false;
    }
    let names: Vec<&str> = source
        .match_indices("macro ")
        .filter_map(|(at, _)| {
            let name = &source[at + 6..];
            let len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            (len > 0 && source[..at].trim_end().ends_with(['%', '-'])).then(|| &name[..len])
        })
        .collect();
    // Each name is followed by `(` only where it is defined.
    names.iter().all(|n| {
        source.matches(&format!("{n}(")).count() == source.matches(&format!("macro {n}(")).count()
    })
}

/// Whether every use of `alias.` is a whole print of one call, `{{ alias.name(...) }}`.
fn only_printed_calls(source: &str, alias: &str) -> bool {
    let uses = source.matches(&format!("{alias}.")).count();
    let mut printed = 0;
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let inner =
            rest[open + 2..open + close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if let Some(call) = inner.strip_prefix(alias).and_then(|c| c.strip_prefix('.')) {
            let name_len = call
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(call.len());
            let args = &call[name_len..];
            if name_len > 0
                && args.starts_with('(')
                && args.ends_with(')')
                && balanced(&args[1..args.len() - 1])
                && inner.matches(&format!("{alias}.")).count() == 1
            {
                printed += 1;
            }
        }
        rest = &rest[open + close + 2..];
    }
    printed == uses
}

/// Whether the parentheses of a call's arguments close only at its end (strings aside).
fn balanced(args: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// How deep a printed value may nest; deeper ones are printed as JSON.
const MAX_DEPTH: usize = 64;

/// A printed value as the YAML parse of its JSON text gives it, when that is certain.
fn hole_value(v: &Jinja, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match v.kind() {
        ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number if v.is_integer() => Value::Number(i64::try_from(v.clone()).ok()?.into()),
        ValueKind::Number => {
            let f = f64::try_from(v.clone()).ok()?;
            // Printed as plain decimals (`0.5`, `2.0`); exponents are left to the parser.
            if !(f == 0.0 && f.is_sign_positive() || (1e-3..1e15).contains(&f.abs())) {
                return None;
            }
            Value::Number(Number::from_f64(f)?)
        }
        ValueKind::String if !v.is_safe() => {
            let s = v.as_str()?;
            if !s.chars().all(printable) || s.contains(TOKEN_PREFIX) {
                return None;
            }
            Value::String(s.to_owned())
        }
        ValueKind::Seq | ValueKind::Map => {
            let obj = v.as_object()?;
            match obj.repr() {
                ObjectRepr::Seq => {
                    let mut items = Vec::new();
                    for item in obj.try_iter()? {
                        items.push(hole_value(&item, depth + 1)?);
                    }
                    Value::Array(items)
                }
                ObjectRepr::Map => {
                    let mut map = Map::new();
                    for (k, item) in obj.try_iter_pairs()? {
                        if k.kind() != ValueKind::String {
                            return None;
                        }
                        let key = k.as_str()?;
                        if !key.chars().all(printable) || key.contains(TOKEN_PREFIX) {
                            return None;
                        }
                        map.insert(key.to_owned(), hole_value(&item, depth + 1)?);
                    }
                    Value::Object(map)
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// Characters YAML takes in a double-quoted scalar as they are, or as the JSON escapes
/// minijinja writes (`\n`, `\t`, `\r`); other control characters are left to the parser.
fn printable(c: char) -> bool {
    matches!(c, '\n' | '\t' | '\r' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// A parsed text with holes, or why it cannot be filled.
type Skeleton = Option<Rc<Vec<Value>>>;

/// Skeletons by their text, for one render of a site.
#[derive(Default)]
pub(super) struct Skeletons {
    parsed: HashMap<String, Skeleton>,
}

impl Skeletons {
    /// The documents `text` renders to with `holes` filled in, when the argument at the top
    /// of this module holds for it; `None` sends the template the old way.
    pub(super) fn fill(&mut self, text: String, holes: Vec<Value>) -> Option<Vec<Value>> {
        let n = holes.len();
        let skeleton = match self.parsed.get(&text) {
            Some(s) => s.clone(),
            None => {
                let s = parse(&text, n).map(Rc::new);
                self.parsed.insert(text, s.clone());
                s
            }
        }?;
        let mut holes: Vec<Option<Value>> = holes.into_iter().map(Some).collect();
        let docs: Vec<Value> = skeleton
            .iter()
            .map(|d| put(d, &mut holes))
            .collect::<Option<_>>()?;
        // Every hole was used once: the skeleton check found each token once.
        holes.iter().all(Option::is_none).then_some(docs)
    }
}

/// Parses a text with `n` tokens, checking that each is found once, in a place a value can be.
fn parse(text: &str, n: usize) -> Option<Vec<Value>> {
    if !tokens_in_text(text, n) {
        return None;
    }
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(text).ok()?;
    let mut seen = vec![false; n];
    for d in &docs {
        if !find_tokens(d, None, &mut seen) {
            return None;
        }
    }
    seen.iter().all(|s| *s).then_some(docs)
}

/// Whether the text holds tokens 0..n once each, each a whole 18-digit number, and nothing
/// else that looks like one.
fn tokens_in_text(text: &str, n: usize) -> bool {
    let mut seen = vec![false; n];
    let mut count = 0;
    for (at, _) in text.match_indices(TOKEN_PREFIX) {
        let digits = &text[at + 1..];
        let len = digits.bytes().take_while(u8::is_ascii_digit).count();
        let Some(index) = (len == 18)
            .then(|| digits[..18].parse::<i64>().ok())
            .flatten()
            .and_then(|d| usize::try_from(d - TOKEN_BASE).ok())
        else {
            return false;
        };
        if index >= n || std::mem::replace(&mut seen[index], true) {
            return false;
        }
        count += 1;
    }
    count == n
}

fn token_index(v: &Value) -> Option<usize> {
    let index = v.as_i64()?.checked_neg()?.checked_sub(TOKEN_BASE)?;
    usize::try_from(index).ok()
}

fn key_index(k: &str) -> Option<usize> {
    (k.len() == 19 && k.starts_with(TOKEN_PREFIX))
        .then(|| k.parse::<i64>().ok())
        .flatten()
        .and_then(|i| token_index(&Value::from(i)))
}

/// Marks the tokens of a skeleton value; false when one is where a value cannot be.
fn find_tokens(v: &Value, key: Option<&str>, seen: &mut [bool]) -> bool {
    fn mark(seen: &mut [bool], i: usize) -> bool {
        i < seen.len() && !std::mem::replace(&mut seen[i], true)
    }
    match v {
        Value::Number(_) => match token_index(v) {
            // A merge key merges a mapping: a token there held no value of its own.
            Some(i) => key != Some("<<") && mark(seen, i),
            None => true,
        },
        Value::String(s) => !s.contains(TOKEN_PREFIX),
        Value::Array(items) => items.iter().all(|i| find_tokens(i, None, seen)),
        Value::Object(map) => map.iter().all(|(k, item)| {
            let key_ok = match key_index(k) {
                Some(i) => mark(seen, i),
                None => !k.contains(TOKEN_PREFIX),
            };
            key_ok && find_tokens(item, Some(k), seen)
        }),
        Value::Null | Value::Bool(_) => true,
    }
}

/// A skeleton value with its holes filled; a key hole takes a string that no other key of
/// its mapping has (a duplicate key is for the parser to report).
fn put(v: &Value, holes: &mut [Option<Value>]) -> Option<Value> {
    Some(match v {
        Value::Number(_) => match token_index(v) {
            Some(i) => holes.get_mut(i)?.take()?,
            None => v.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| put(i, holes)).collect::<Option<_>>()?)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, item) in map {
                let item = put(item, holes)?;
                let key = match key_index(k) {
                    Some(i) => match holes.get_mut(i)?.take()? {
                        Value::String(s) => s,
                        _ => return None,
                    },
                    None => k.clone(),
                };
                if out.insert(key, item).is_some() {
                    return None;
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(fill: bool) -> minijinja::Environment<'static> {
        let mut env = super::super::environment(&[]).unwrap();
        if fill {
            env.set_formatter(formatter);
        }
        env
    }

    /// The documents of a template source rendered with `ctx`, both ways: by the text round
    /// trip, and with holes (None when it would go the old way).
    fn both(source: &str, ctx: &serde_json::Value) -> (Vec<Value>, Option<Vec<Value>>) {
        let plain = env(false)
            .render_named_str(
                "t.yaml.j2",
                source,
                Jinja::from(minijinja::value::Serde(ctx)),
            )
            .unwrap();
        let plain: Vec<Value> = serde_saphyr::from_str_multiple(&plain).unwrap();
        let fill_env = env(true);
        let (text, holes) = with_holes(|| {
            fill_env.render_named_str(
                "t.yaml.j2",
                source,
                Jinja::from(minijinja::value::Serde(ctx)),
            )
        });
        let filled = Skeletons::default().fill(text.unwrap(), holes);
        (plain, filled)
    }

    fn ctx() -> Value {
        json!({
            "name": "hub", "n": 3, "f": 0.5, "big": 1e20, "on": true, "none": null,
            "list": [{"name": "/dev/a"}, {"name": "/dev/b"}], "map": {"k": ["v", 1]},
            "bell": "a\u{7}b", "quote": "it's \"quoted\": # not a comment",
        })
    }

    #[test]
    fn filled_documents_are_the_parsed_ones() {
        let source = "a: {{ name }}\nb: {{ n }}\nc: {{ f }}\nd: {{ on }}\ne: {{ none }}\n\
                      f: {{ list }}\ng:\n  - {{ map }}\n  - [{{ n }}, {{ name }}]\n\
                      {{ name }}: {{ quote }}\n---\n{{ map }}\n";
        let (plain, filled) = both(source, &ctx());
        assert_eq!(Some(plain), filled);
    }

    #[test]
    fn values_not_certain_to_parse_back_are_printed() {
        // A float with an exponent and a control character stay JSON text: the parse decides.
        let (plain, filled) = both("a: {{ big }}\nb: [{{ name }}]\n", &ctx());
        assert_eq!(Some(plain), filled);
        let fill_env = env(true);
        let (text, holes) = with_holes(|| {
            fill_env.render_named_str(
                "t.yaml.j2",
                "a: {{ big }}\nb: {{ bell }}\n",
                Jinja::from(minijinja::value::Serde(ctx())),
            )
        });
        assert!(holes.is_empty(), "{holes:?}");
        assert_eq!(text.unwrap(), "a: 1e+20\nb: \"a\\u0007b\"\n");
    }

    #[test]
    fn a_token_anywhere_but_a_whole_plain_scalar_goes_the_old_way() {
        for source in [
            "a: \"{{ n }}\"\n",           // inside a quoted scalar
            "a: x{{ n }}\n",              // beside other characters
            "a: 1{{ n }}\n",              // another number
            "a: {{ n }}.5\n",             // a float
            "a: +{{ n }}\n",              // a sign
            "# {{ n }}\na: 1\n",          // a comment
            "a: |\n  {{ n }}\n",          // a block scalar
            "a: &x {{ list }}\nb: *x\n",  // an alias
            "a: {{ n }} {{ n }}\n",       // two in one scalar
            "a: {{ list }}\n  more\n",    // a continued plain scalar
            "{{ n }}: x\n",               // a key that is not a string
            "a: -730000000000000000\n",   // the template's own number that looks like a token
            "a: {{ undefined_thing }}\n", // an error: reported by the plain render
        ] {
            let fill_env = env(true);
            let (text, holes) = with_holes(|| {
                fill_env.render_named_str(
                    "t.yaml.j2",
                    source,
                    Jinja::from(minijinja::value::Serde(ctx())),
                )
            });
            let filled = text.ok().and_then(|t| Skeletons::default().fill(t, holes));
            assert_eq!(filled, None, "{source:?}");
        }
    }

    #[test]
    fn one_shape_is_parsed_once() {
        let fill_env = env(true);
        let mut skeletons = Skeletons::default();
        for name in ["a", "b", "c"] {
            let (text, holes) = with_holes(|| {
                fill_env.render_named_str(
                    "t.yaml.j2",
                    "n: {{ name }}\n",
                    Jinja::from(minijinja::value::Serde(json!({"name": name}))),
                )
            });
            assert_eq!(
                skeletons.fill(text.unwrap(), holes),
                Some(vec![json!({"n": name})])
            );
        }
        assert_eq!(skeletons.parsed.len(), 1);
    }

    #[test]
    fn templates_that_capture_output_are_not_filled() {
        let macros = "{% macro f(a) %}\nx: {{ a }}\n{%- endmacro %}\n";
        let nested = "{% macro f(a) %}{{ a }}{% endmacro %}{% macro g() %}{{ f(1) }}{% endmacro %}";
        let lookup = |name: &str| match name {
            "common/macros.j2" => Some(macros.to_owned()),
            "nested.j2" => Some(nested.to_owned()),
            _ => None,
        };
        assert!(fillable("a: {{ x }}\n{% set y = 1 %}\n", lookup));
        // Words in the text are not tags.
        assert!(fillable(
            "# the pool's blocks, included\na: {{ x }}\n",
            lookup
        ));
        assert!(!fillable(
            "{% for x in y recursive %}{{ loop(x) }}{% endfor %}",
            lookup
        ));
        assert!(!fillable("{%- set y -%}{{ x }}{%- endset %}", lookup));
        assert!(fillable(
            "{% import \"common/macros.j2\" as m %}\n{{ m.f(\"(\" ~ x) }}\nb: {{ y }}\n",
            lookup
        ));
        for s in [
            "{% set y %}{{ x }}{% endset %}",
            "{% filter upper %}{{ x }}{% endfilter %}",
            "{% macro f() %}{{ x }}{% endmacro %}",
            "{% include \"common/macros.j2\" %}",
            // A macro's output through a filter, in a variable, or from a macro calling one.
            "{% import \"common/macros.j2\" as m %}{{ m.f(1)|upper }}",
            "{% import \"common/macros.j2\" as m %}{% set v = m.f(1) %}{{ v }}",
            "{% import \"common/macros.j2\" as m %}{{ m.f(1) ~ m.f(2) }}",
            "{% import \"nested.j2\" as m %}{{ m.g() }}",
            "{% import \"missing.j2\" as m %}{{ m.g() }}",
            "{% from \"common/macros.j2\" import f %}{{ f(1) }}",
        ] {
            assert!(!fillable(s, lookup), "{s}");
        }
    }
}
