//! Stage `load`: source text -> typed `Site`. TOML syntax, unknown keys, wrong types and
//! missing fields become located diagnostics; every file is reported, not just the first.

use std::net::IpAddr;
use std::sync::LazyLock;

use serde::de::DeserializeOwned;

use super::components::{COMPONENTS, Component};
use super::nodes::{Drive, MAX_DRIVES, MAX_GPUS, MAX_NODES, MAX_WIDTH, Node, NodeClass};
use super::structure;
use super::{Instance, InstanceFile, Site, SiteFile};
use crate::diagnostics::{self as diag, Code, Diagnostic, Diagnostics};
use crate::sources::{FileId, INSTANCES_DIR, SITE_FILE, Sources};

/// Loads the site. Returns the site when every file parsed, with any diagnostics found on
/// the way; `None` when a file could not be turned into its type.
pub fn load(sources: &Sources) -> (Option<Site>, Diagnostics) {
    load_with(sources, COMPONENTS)
}

/// Loads the site for a registry of components other than the built-in one (tests add a
/// component this way).
pub fn load_with(sources: &Sources, registry: &'static [Component]) -> (Option<Site>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let Some(site_id) = sources.find(SITE_FILE) else {
        diags.push(
            Diagnostic::new(diag::NO_SITE, "the site has no site.toml")
                .help(diag::NO_SITE.info().fix),
        );
        return (None, diags);
    };
    refused(sources, &mut diags);
    let spec = parse_file::<SiteFile>(sources, site_id, &SITE_SCHEMA, &mut diags);
    let mut instances = Vec::new();
    for (id, f) in sources.files() {
        if f.path.starts_with(&format!("{INSTANCES_DIR}/"))
            && let Some(spec) =
                parse_file::<InstanceFile>(sources, id, &INSTANCE_SCHEMA, &mut diags)
        {
            instances.push(Instance {
                file: id,
                path: f.path.clone(),
                spec,
            });
        }
    }
    let Some(spec) = spec else {
        return (None, diags);
    };
    if diags.has_errors() {
        return (None, diags);
    }
    let nodes = expand_nodes(&spec, site_id, &mut diags);
    if diags.has_errors() {
        return (None, diags);
    }
    (
        Some(Site {
            file: site_id,
            spec,
            instances,
            nodes,
            registry,
        }),
        diags,
    )
}

/// The files the reader refused (links out of the site, FIFOs, oversized files, too many
/// files): one diagnostic each, at the file when it has a place in the sources.
fn refused(sources: &Sources, diags: &mut Diagnostics) {
    for r in &sources.refused {
        let (code, help) = if r.reason.is_limit() {
            (
                diag::LIMIT_EXCEEDED,
                "site files are text written by hand: split what is this large, or check for a file that does not belong in the site",
            )
        } else {
            (diag::SITE_FILE_REFUSED, diag::SITE_FILE_REFUSED.info().fix)
        };
        let mut d = Diagnostic::new(
            code,
            format!(
                "{} {}; it was not read",
                crate::redact::escape_controls(&r.path),
                r.reason
            ),
        )
        .help(help);
        if let Some(file) = r.file {
            d = d.at(file, 0..0, "not read");
        }
        diags.push(d);
    }
}

fn parse_file<T: DeserializeOwned>(
    sources: &Sources,
    id: FileId,
    schema: &serde_json::Value,
    diags: &mut Diagnostics,
) -> Option<T> {
    let file = sources.get(id)?;
    if sources.refusal(id).is_some() {
        return None;
    }
    if let Some(b) = sources.is_binary(id) {
        diags.push(
            Diagnostic::new(
                diag::TOML_SYNTAX,
                format!("{} is not UTF-8 text", file.path),
            )
            .at(
                id,
                b.valid_up_to..b.valid_up_to,
                "the first byte that is not UTF-8",
            )
            .help("site files are TOML text in UTF-8; was a binary file saved under this name?"),
        );
        return None;
    }
    // Syntax first (every syntax error of the file, as the parser recovers), so that a
    // syntax error is never reported as a type error; then the structural pass, which
    // reports every unknown key, wrong type and bad value; serde reads only what passed.
    let (root, errors) = toml::de::DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        diags.extend(syntax_errors(id, &file.text, &errors, schema));
        return None;
    }
    let found = structure::check(id, &file.text, root.get_ref(), schema);
    if !found.is_empty() {
        diags.extend(found);
        return None;
    }
    match toml::from_str::<T>(&file.text) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(type_error(id, &e));
            None
        }
    }
}

/// The parser's syntax errors, in file order. A repeated `[table]` header gets the fix the
/// schema points to: `[[table]]` when the table is a list, else merging the two; the keys
/// under a repeated header, which the parser also reports as repeated, are left out.
fn syntax_errors(
    id: FileId,
    text: &str,
    errors: &[toml::de::Error],
    schema: &serde_json::Value,
) -> Vec<Diagnostic> {
    let mut errors: Vec<_> = errors.iter().collect();
    errors.sort_by_key(|e| e.span().map_or(0, |s| s.start));
    let line_of = |at: usize| {
        let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        (start, text[start..end].trim())
    };
    let mut out = Vec::new();
    // The line start of the last repeated header, while its body runs.
    let mut repeated_header: Option<usize> = None;
    // Lists begun as a single table, reported once each.
    let mut started_single = std::collections::BTreeSet::new();
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let msg = first_line(e.message());
        if msg != "duplicate key" {
            out.push(
                Diagnostic::new(diag::TOML_SYNTAX, format!("invalid TOML: {msg}"))
                    .at(id, span, "here")
                    .help(Code::info(diag::TOML_SYNTAX).fix),
            );
            continue;
        }
        let key = text.get(span.clone()).unwrap_or("").trim();
        let (line_start, line) = line_of(span.start);
        let header = line
            .strip_prefix('[')
            .filter(|l| !l.starts_with('['))
            .and_then(|l| l.split(']').next())
            .map(|h| h.split('.').map(str::trim).collect::<Vec<_>>().join("."));
        // `[x]` first, then `[[x]]`: TOML reports the list's header as the repeated key.
        // The fix is at the single table, named as the primary location.
        let list_header = line
            .strip_prefix("[[")
            .and_then(|l| l.split("]]").next())
            .map(|h| h.split('.').map(str::trim).collect::<Vec<_>>().join("."));
        if let Some(name) = list_header {
            repeated_header = Some(line_start);
            if !started_single.insert(name.clone()) {
                continue;
            }
            let single = single_header(text, &name, line_start);
            let mut d = Diagnostic::new(
                diag::TOML_SYNTAX,
                format!("`{name}` is a list of tables, but its first entry is written `[{name}]`"),
            );
            d = match single {
                Some(at) => d
                    .at(id, at, "a single table")
                    .also(id, span, "an entry of the list"),
                None => d.at(id, span, "an entry of the list"),
            };
            out.push(d.help(format!(
                "write the first header as `[[{name}]]` too: each `[[{name}]]` starts one entry of the list"
            )));
            continue;
        }
        if let Some(name) = header {
            repeated_header = Some(line_start);
            let path: Vec<&str> = name.split('.').collect();
            let list = structure::schema_at(schema, &path).is_some_and(structure::is_list);
            let d = if list {
                Diagnostic::new(
                    diag::TOML_SYNTAX,
                    format!("`[{name}]` appears twice, but `{name}` is a list of tables"),
                )
                .at(id, span, "a second single table")
                .help(format!(
                    "write each entry's header as `[[{name}]]`: each `[[{name}]]` starts one more entry of the list"
                ))
            } else {
                Diagnostic::new(
                    diag::TOML_SYNTAX,
                    format!("the table `[{name}]` is defined twice"),
                )
                .at(id, span, "defined again here")
                .help(format!(
                    "a table appears once: merge the keys of both `[{name}]` sections into one"
                ))
            };
            out.push(d);
            continue;
        }
        let in_repeated_body = repeated_header.is_some_and(|h| {
            h < line_start
                && !text[h..line_start]
                    .lines()
                    .skip(1)
                    .any(|l| l.trim_start().starts_with('['))
        });
        if in_repeated_body {
            continue;
        }
        out.push(
            Diagnostic::new(
                diag::TOML_SYNTAX,
                format!("invalid TOML: duplicate key `{key}`"),
            )
            .at(id, span, "defined again here")
            .help("a key may appear once per table; remove or merge the repeated one"),
        );
    }
    out
}

/// The span of the name in the last single-table header `[name]` before `before`.
fn single_header(text: &str, name: &str, before: usize) -> Option<std::ops::Range<usize>> {
    let mut found = None;
    let mut at = 0;
    for line in text[..before.min(text.len())].split_inclusive('\n') {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if let Some(rest) = body.strip_prefix('[').filter(|r| !r.starts_with('[')) {
            let inner = rest.split(']').next().unwrap_or("");
            let normal = inner
                .split('.')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(".");
            if normal == name {
                let start = at + indent + 1;
                found = Some(start..start + inner.len());
            }
        }
        at += line.len();
    }
    found
}

/// A serde error in a file the structural pass found nothing in: the two disagree, which the
/// agreement test in this file guards against. The value's span is masked (it may be a
/// secret field that the walk did not recognise) and the message is serde's.
fn type_error(id: FileId, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    Diagnostic::new(diag::INVALID_VALUE, first_line(e.message()))
        .at(id, span, "here (masked)")
        .help(diag::INVALID_VALUE.info().fix)
        .redacted()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim_end()
}

/// Expands classes and ranges into nodes, in definition order.
fn expand_nodes(spec: &SiteFile, file: FileId, diags: &mut Diagnostics) -> Vec<Node> {
    let class = |name: &Option<toml::Spanned<String>>,
                 diags: &mut Diagnostics|
     -> Option<Option<&NodeClass>> {
        let Some(n) = name else { return Some(None) };
        match spec.node_class.iter().find(|c| &c.name == n.get_ref()) {
            Some(c) => Some(Some(c)),
            None => {
                let known: Vec<_> = spec.node_class.iter().map(|c| c.name.as_str()).collect();
                diags.push(
                    Diagnostic::new(
                        diag::INVALID_VALUE,
                        format!("no [[node_class]] named `{}`", n.get_ref()),
                    )
                    .at(file, n.span(), "unknown class")
                    .help(format!("define it, or use one of: {}", known.join(", "))),
                );
                None
            }
        }
    };
    let mut nodes = Vec::new();
    let mut total: u32 = spec.node.len().try_into().unwrap_or(u32::MAX);
    for r in &spec.node_range {
        let Some(cls) = class(&r.class, diags) else {
            continue;
        };
        if !range_fits(r, cls, &mut total, file, diags) {
            continue;
        }
        let start = r.start.as_ref().map_or(1, |s| *s.get_ref());
        let width = r.width.as_ref().map_or(2, |w| *w.get_ref());
        for i in 0..*r.count.get_ref() {
            // `range_fits` checked that the last number fits.
            let number = start.saturating_add(i);
            let name = format!("{}{:0width$}", r.prefix.get_ref(), number, width = width);
            let ip = match &r.first_ip {
                None => None,
                Some(first) => {
                    let Some(ip) = offset_ip(*first.get_ref(), i) else {
                        diags.push(
                            Diagnostic::new(
                                diag::INVALID_VALUE,
                                format!(
                                    "the range runs past the last address from {}",
                                    first.get_ref()
                                ),
                            )
                            .at(file, first.span(), "first address")
                            .help("start the range lower or make it shorter"),
                        );
                        break;
                    };
                    Some(ip)
                }
            };
            if name.parse::<super::types::DnsSubdomain>().is_err() {
                diags.push(
                    Diagnostic::new(
                        diag::INVALID_NAME,
                        format!("node name `{name}` is not a valid Kubernetes node name"),
                    )
                    .at(file, r.prefix.span(), "in this range")
                    .help("use a lower-case prefix of letters, digits and '-'"),
                );
                break;
            }
            nodes.push(Node {
                nvme: class_drives(cls, &name),
                name,
                name_span: r.prefix.span(),
                ip,
                ip_span: r
                    .first_ip
                    .as_ref()
                    .map_or_else(|| r.prefix.span(), |f| f.span()),
                roles: r.roles.clone(),
                cores: r.cores.or(cls.map(|c| c.cores)).unwrap_or(0),
                threads: r.threads.or(cls.map(|c| c.threads)).unwrap_or(0),
                memory_bytes: r
                    .memory
                    .as_ref()
                    .or(cls.map(|c| &c.memory))
                    .map_or(0.0, |q| q.value()),
                gpus: r.gpus.clone(),
                labels: r.labels.clone(),
                taints: r.taints.clone(),
                rack: r.rack.clone(),
            });
        }
    }
    if spec.node.len() > MAX_NODES as usize {
        diags.push(
            Diagnostic::new(
                diag::LIMIT_EXCEEDED,
                format!(
                    "{} [[node]] entries; a site may have at most {MAX_NODES} nodes",
                    spec.node.len()
                ),
            )
            .at(file, spec.node[0].name.span(), "the first of them")
            .help("describe identical nodes with [[node_range]] and [[node_class]]"),
        );
        return nodes;
    }
    for n in &spec.node {
        let Some(cls) = class(&n.class, diags) else {
            continue;
        };
        if !gpus_fit(&n.gpus, file, diags) {
            continue;
        }
        if let Some(set) = cls.and_then(|c| c.nvme.as_ref())
            && *set.count.get_ref() > MAX_DRIVES
            && n.nvme.is_none()
        {
            diags.push(
                Diagnostic::new(
                    diag::LIMIT_EXCEEDED,
                    format!(
                        "{} NVMe drives per node; a node may have at most {MAX_DRIVES}",
                        set.count.get_ref()
                    ),
                )
                .at(file, set.count.span(), "too many drives")
                .help("check the count for a typo"),
            );
            continue;
        }
        let name = n.name.get_ref().to_string();
        nodes.push(Node {
            nvme: n.nvme.clone().unwrap_or_else(|| class_drives(cls, &name)),
            name,
            name_span: n.name.span(),
            ip: n.ip.as_ref().map(|i| *i.get_ref()),
            ip_span: n.ip.as_ref().map_or_else(|| n.name.span(), |i| i.span()),
            roles: n.roles.clone(),
            cores: n.cores.or(cls.map(|c| c.cores)).unwrap_or(0),
            threads: n.threads.or(cls.map(|c| c.threads)).unwrap_or(0),
            memory_bytes: n
                .memory
                .as_ref()
                .or(cls.map(|c| &c.memory))
                .map_or(0.0, |q| q.value()),
            gpus: n.gpus.clone(),
            labels: n.labels.clone(),
            taints: n.taints.clone(),
            rack: n.rack.clone(),
        });
    }
    nodes
}

/// Checks the numbers of a range before anything is made from them: the node count against
/// `MAX_NODES` (for the whole site), the last number against `u32`, the digits against
/// `MAX_WIDTH`, and the class's drives and the range's GPUs per node. Adds the range's nodes
/// to `total`.
fn range_fits(
    r: &super::NodeRange,
    cls: Option<&NodeClass>,
    total: &mut u32,
    file: FileId,
    diags: &mut Diagnostics,
) -> bool {
    let before = diags.len();
    let count = *r.count.get_ref();
    match total.checked_add(count).filter(|t| *t <= MAX_NODES) {
        Some(t) => *total = t,
        None => diags.push(
            Diagnostic::new(
                diag::LIMIT_EXCEEDED,
                format!(
                    "the site would have more than {MAX_NODES} nodes with this range of {count}"
                ),
            )
            .at(file, r.count.span(), "too many nodes")
            .help(format!(
                "a site may have at most {MAX_NODES} nodes; check the count for a typo"
            )),
        ),
    }
    if let Some(start) = &r.start
        && start
            .get_ref()
            .checked_add(count.saturating_sub(1))
            .is_none()
    {
        diags.push(
            Diagnostic::new(
                diag::LIMIT_EXCEEDED,
                format!(
                    "the range's numbers run past {} from {}",
                    u32::MAX,
                    start.get_ref()
                ),
            )
            .at(file, start.span(), "first number")
            .help("start the numbers lower"),
        );
    }
    if let Some(width) = &r.width
        && *width.get_ref() > MAX_WIDTH
    {
        diags.push(
            Diagnostic::new(
                diag::LIMIT_EXCEEDED,
                format!(
                    "a width of {} digits; node numbers have at most {MAX_WIDTH}",
                    width.get_ref()
                ),
            )
            .at(file, width.span(), "too wide")
            .help("node names are at most 63 characters; use a width from 1 to 10"),
        );
    }
    if let Some(set) = cls.and_then(|c| c.nvme.as_ref())
        && *set.count.get_ref() > MAX_DRIVES
    {
        diags.push(
            Diagnostic::new(
                diag::LIMIT_EXCEEDED,
                format!(
                    "{} NVMe drives per node; a node may have at most {MAX_DRIVES}",
                    set.count.get_ref()
                ),
            )
            .at(file, set.count.span(), "too many drives")
            .help("check the count for a typo"),
        );
    }
    gpus_fit(&r.gpus, file, diags);
    diags.len() == before
}

/// GPUs per node within `MAX_GPUS`, so no sum over the nodes can overflow.
fn gpus_fit(gpus: &[super::nodes::Gpu], file: FileId, diags: &mut Diagnostics) -> bool {
    let mut fits = true;
    for g in gpus {
        if g.count > MAX_GPUS {
            fits = false;
            diags.push(
                Diagnostic::new(
                    diag::LIMIT_EXCEEDED,
                    format!(
                        "{} `{}` GPUs per node; a node may have at most {MAX_GPUS}",
                        g.count,
                        g.model.get_ref()
                    ),
                )
                .at(file, g.model.span(), "this GPU's count")
                .help("check the count for a typo"),
            );
        }
    }
    fits
}

fn class_drives(class: Option<&NodeClass>, node: &str) -> Vec<Drive> {
    let Some(set) = class.and_then(|c| c.nvme.as_ref()) else {
        return Vec::new();
    };
    (0..*set.count.get_ref())
        .map(|i| Drive {
            id: set
                .id
                .replace("{node}", node)
                .replace("{n}", &i.to_string()),
            size: set.size.clone(),
        })
        .collect()
}

fn offset_ip(ip: IpAddr, by: u32) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) => u32::from(v4).checked_add(by).map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(v6) => u128::from(v6)
            .checked_add(u128::from(by))
            .map(|n| IpAddr::V6(n.into())),
    }
}

/// The schemas the structural pass walks, made once per process.
static SITE_SCHEMA: LazyLock<serde_json::Value> = LazyLock::new(site_schema);
static INSTANCE_SCHEMA: LazyLock<serde_json::Value> = LazyLock::new(instance_schema);

/// JSON Schema of `site.toml`, generated from the types (written to schemas/ by `casa-build
/// schema`, checked fresh by a test).
pub fn site_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(SiteFile)).unwrap_or_default()
}

/// JSON Schema of an instance file.
pub fn instance_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(InstanceFile)).unwrap_or_default()
}
