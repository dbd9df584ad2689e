//! The grammar of every value type, looked up by the name its JSON Schema gives it
//! (`#/$defs/<name>`). The structural pass (`site::structure`) checks each value the schema
//! says is of such a type with the type's own parser, so that every bad value of a file is
//! reported in one run, each with the type's code and message; serde, which stops at the
//! first error, then only ever sees files that pass.

use std::borrow::Cow;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::LazyLock;

use schemars::JsonSchema;
use toml::de::DeValue;

use super::*;
use crate::diagnostics::{self as diag, Code};

/// What a value must be in TOML before its grammar applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    String,
    Integer,
    Number,
}

/// One value type: its schema name, the code its refusals carry, and its parser.
pub struct Grammar {
    pub name: Cow<'static, str>,
    pub code: Code,
    pub expected: Expected,
    /// The value's own complaint, in the type's words (naming the value and what is
    /// accepted); `None` when the value is of the right TOML type but has no number or
    /// string to read (the walker words that from `expected`).
    check: fn(&DeValue<'_>) -> Option<Result<(), String>>,
}

impl Grammar {
    /// `None`: the value is not of the TOML type the grammar reads.
    pub fn check(&self, value: &DeValue<'_>) -> Option<Result<(), String>> {
        (self.check)(value)
    }
}

fn text<T>(v: &DeValue<'_>) -> Option<Result<(), String>>
where
    T: FromStr<Err: std::fmt::Display>,
{
    Some(
        v.as_str()?
            .parse::<T>()
            .map(drop)
            .map_err(|e| e.to_string()),
    )
}

/// A TOML integer as Rust reads it: decimal, hex, octal or binary, underscores gone.
pub fn integer(v: &DeValue<'_>) -> Option<i128> {
    let i = v.as_integer()?;
    i128::from_str_radix(i.as_str(), i.radix()).ok()
}

/// A TOML number (integer or float) as f64.
pub fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => {
            let s = f.as_str();
            Some(match s.trim_start_matches(['+', '-']) {
                "inf" => f64::INFINITY,
                "nan" => f64::NAN,
                _ => s.parse().ok()?,
            })
        }
        // Exact for every integer a count or an amount of cores can be.
        #[allow(clippy::cast_precision_loss)]
        DeValue::Integer(_) => integer(v).map(|i| i as f64),
        _ => None,
    }
}

fn cores<T: TryFrom<f64, Error = String>>(v: &DeValue<'_>) -> Option<Result<(), String>> {
    Some(T::try_from(number(v)?).map(drop))
}

/// Any integer serde can hold: the `asn-range` rule reports a number out of range at its
/// place, with its own code.
fn asn(v: &DeValue<'_>) -> Option<Result<(), String>> {
    v.as_integer()?;
    let i = integer(v);
    Some(match i.and_then(|i| i64::try_from(i).ok()) {
        Some(_) => Ok(()),
        None => Err("the number is too large for an AS number (at most 4294967295)".to_owned()),
    })
}

fn ip(v: &DeValue<'_>) -> Option<Result<(), String>> {
    let s = v.as_str()?;
    Some(s.parse::<IpAddr>().map(drop).map_err(|_| {
        format!(
            "`{}` is not an IP address; expected IPv4 such as `192.0.2.10` or IPv6 such as `2001:db8::10`",
            s.escape_debug()
        )
    }))
}

/// The schema of an IP address field (`std::net::IpAddr`, read by serde from a string):
/// named, so that the structural pass knows the grammar and editors see the format.
pub struct IpAddress;

impl JsonSchema for IpAddress {
    fn schema_name() -> Cow<'static, str> {
        "IpAddress".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "an IPv4 or IPv6 address, e.g. `192.0.2.10` or `2001:db8::10`"
        })
    }
}

fn entry<T: JsonSchema>(
    code: Code,
    expected: Expected,
    check: fn(&DeValue<'_>) -> Option<Result<(), String>>,
) -> Grammar {
    Grammar {
        name: T::schema_name(),
        code,
        expected,
        check,
    }
}

static GRAMMARS: LazyLock<Vec<Grammar>> = LazyLock::new(|| {
    use Expected::{Integer, Number, String as Str};
    let v = diag::INVALID_VALUE;
    let n = diag::INVALID_NAME;
    vec![
        entry::<DnsLabel>(n, Str, text::<DnsLabel>),
        entry::<DnsSubdomain>(n, Str, text::<DnsSubdomain>),
        entry::<Hostname>(n, Str, text::<Hostname>),
        entry::<LabelValue>(n, Str, text::<LabelValue>),
        entry::<KubernetesVersion>(diag::KUBERNETES_VERSION, Str, text::<KubernetesVersion>),
        entry::<Cidr>(v, Str, text::<Cidr>),
        entry::<Quantity>(v, Str, text::<Quantity>),
        entry::<PositiveQuantity>(v, Str, text::<PositiveQuantity>),
        entry::<ImageRef>(v, Str, text::<ImageRef>),
        entry::<MigProfile>(v, Str, text::<MigProfile>),
        entry::<SitePath>(v, Str, text::<SitePath>),
        entry::<FluxInterval>(v, Str, text::<FluxInterval>),
        entry::<CvmfsProxy>(v, Str, text::<CvmfsProxy>),
        entry::<GitUrl>(v, Str, text::<GitUrl>),
        entry::<GitBranch>(v, Str, text::<GitBranch>),
        entry::<TreePath>(v, Str, text::<TreePath>),
        entry::<ChartRepositoryUrl>(v, Str, text::<ChartRepositoryUrl>),
        entry::<ClaimName>(v, Str, text::<ClaimName>),
        entry::<ClientId>(v, Str, text::<ClientId>),
        entry::<CondorValue>(v, Str, text::<CondorValue>),
        entry::<DisplayText>(v, Str, text::<DisplayText>),
        entry::<Email>(v, Str, text::<Email>),
        entry::<HttpsUrl>(v, Str, text::<HttpsUrl>),
        entry::<OAuthScope>(v, Str, text::<OAuthScope>),
        entry::<PodPath>(v, Str, text::<PodPath>),
        entry::<ProfileText>(v, Str, text::<ProfileText>),
        entry::<UidDomain>(v, Str, text::<UidDomain>),
        entry::<IpAddress>(v, Str, ip),
        entry::<Cores>(v, Number, cores::<Cores>),
        entry::<PositiveCores>(v, Number, cores::<PositiveCores>),
        entry::<Asn>(diag::ASN_RANGE, Integer, asn),
    ]
});

/// The grammar of the schema type `name`, if it has one (tables and choices have none: the
/// walker checks them from the schema).
pub fn grammar(name: &str) -> Option<&'static Grammar> {
    GRAMMARS.iter().find(|g| g.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(toml: &str) -> DeValue<'_> {
        let t = toml::de::DeTable::parse(toml).unwrap().into_inner();
        t.into_iter().next().unwrap().1.into_inner()
    }

    #[test]
    fn each_grammar_is_the_types_own_parser() {
        let g = |n| grammar(n).unwrap();
        assert_eq!(g("Cidr").check(&value("v = '10.0.0.0/8'")), Some(Ok(())));
        let e = g("Cidr")
            .check(&value("v = '10.0.0.0/33'"))
            .unwrap()
            .unwrap_err();
        assert_eq!(Err(e), "10.0.0.0/33".parse::<Cidr>().map(drop));
        assert_eq!(g("Cidr").check(&value("v = 12")), None);
        assert_eq!(g("DnsLabel").code, diag::INVALID_NAME);
        assert_eq!(g("Cores").check(&value("v = 4")), Some(Ok(())));
        assert!(matches!(g("Cores").check(&value("v = nan")), Some(Err(_))));
        assert!(
            matches!(g("IpAddress").check(&value("v = '10.0.0.300'")), Some(Err(m)) if m.contains("not an IP address"))
        );
        assert_eq!(g("Asn").check(&value("v = 0")), Some(Ok(())));
        assert!(matches!(
            g("Asn").check(&value("v = 0x1_0000_0000_0000_0000")),
            None | Some(Err(_))
        ));
        assert!(grammar("Chart").is_none());
    }

    /// A named type the walk knows neither as a table nor as a choice must have a grammar,
    /// or its values would reach serde unchecked (and stop the file at its first error).
    #[test]
    fn every_named_value_type_of_the_schemas_has_a_grammar() {
        for schema in [crate::site::site_schema(), crate::site::instance_schema()] {
            for (name, def) in schema["$defs"].as_object().unwrap() {
                let table = def.get("properties").is_some();
                let choice = def.get("oneOf").is_some() || def.get("enum").is_some();
                let secret = name == "SealedValue";
                assert!(
                    table || choice || secret || grammar(name).is_some(),
                    "`{name}` has no grammar in site::types::grammar: {def}"
                );
            }
        }
    }
}
