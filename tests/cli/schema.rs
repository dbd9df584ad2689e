//! `casa-build schema`: the JSON Schemas generated from the Rust types, and the committed
//! copies in `schemas/` that editors read through the `#:schema` lines.

use crate::support::{Cli, path, read, tempdir};

const REGENERATE: &str = "cargo run -- schema --out schemas";

#[test]
fn committed_schemas_are_fresh() {
    let out = tempdir();
    Cli::new()
        .arg("schema")
        .arg("--out")
        .arg(out.path())
        .code(0)
        .stdout("")
        .run();
    for name in ["site.schema.json", "instance.schema.json"] {
        let fresh = read(&out.path().join(name));
        let committed = read(&path("schemas").join(name));
        if fresh != committed {
            let diff = similar::TextDiff::from_lines(&committed, &fresh)
                .unified_diff()
                .header(&format!("schemas/{name} (committed)"), "generated")
                .to_string();
            panic!("schemas/{name} is stale; regenerate it with `{REGENERATE}`\n{diff}");
        }
    }
}

#[test]
fn schemas_are_json_schema_documents() {
    for name in ["site.schema.json", "instance.schema.json"] {
        let v: serde_json::Value = serde_json::from_str(&read(&path("schemas").join(name)))
            .unwrap_or_else(|e| panic!("schemas/{name} is not JSON: {e}"));
        assert!(v["$schema"].is_string(), "{name} has no $schema");
        assert_eq!(v["type"], "object", "{name}");
        assert!(v["properties"].is_object(), "{name} has no properties");
    }
}

#[test]
fn every_site_file_names_its_schema() {
    for (file, schema) in [
        ("site.toml", "#:schema ./schemas/site.schema.json"),
        (
            "instances/cms-prod.toml",
            "#:schema ../schemas/instance.schema.json",
        ),
        (
            "examples/small-site/site.toml",
            "#:schema ../../schemas/site.schema.json",
        ),
        (
            "examples/small-site/instances/physics-hub.toml",
            "#:schema ../../../schemas/instance.schema.json",
        ),
    ] {
        let text = read(&path(file));
        assert_eq!(text.lines().next(), Some(schema), "first line of {file}");
    }
}
