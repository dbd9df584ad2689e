//! The bad-input corpus: every folder under `tests/bad-input/` is a complete site holding one
//! defect, with `expect.toml` naming the code the check must report and where (`file`,
//! `line`, `column`, optional `exit` (default 2) and `secret`, a plaintext that must never be
//! printed). A passing case (`passes = true`) is a valid site at the edge of a rule: the
//! check must exit 0 without reporting its `code`. The folder is globbed: a new case needs no
//! code here. `make-cases.py` there generates most cases from the example sites.
//!
//! Each case runs the binary twice (`--format json` and text) on a copy of its folder and must:
//! exit with its code, report the code at the location, print no panic and no secret, write
//! nothing (the copy is compared file by file, mtimes included, and the working directory
//! stays empty), and render like its snapshot in `snapshots/bad-input/<case>.snap`.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::support::{Cli, path, read};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    line: u64,
    #[serde(default)]
    column: u64,
    #[serde(default = "invalid")]
    exit: i32,
    secret: Option<String>,
    #[serde(default)]
    passes: bool,
}

fn invalid() -> i32 {
    2
}

fn corpus() -> PathBuf {
    path("tests/bad-input")
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("tests/bad-input")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn name(case: &Path) -> String {
    case.file_name()
        .expect("a case folder")
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn expect(case: &Path) -> Expect {
    let file = case.join("expect.toml");
    toml::from_str(&read(&file)).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn every_case_reports_its_code_at_its_location() {
    let cases = cases();
    let mut failed = Vec::new();
    for case in &cases {
        if catch_unwind(AssertUnwindSafe(|| check_case(case))).is_err() {
            failed.push(name(case));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} bad-input cases failed (details above): {}",
        failed.len(),
        cases.len(),
        failed.join(", ")
    );
}

fn check_case(case: &Path) {
    let name = name(case);
    let want = expect(case);
    if want.passes {
        return check_passing_case(case, &name, &want);
    }
    let secret = |cli: Cli| match &want.secret {
        Some(s) => cli.never_prints(s.clone()),
        None => cli,
    };

    let json = secret(
        Cli::new()
            .args(["check", "--format", "json"])
            .site(case)
            .site_unchanged()
            .code(want.exit),
    )
    .run();
    let report = json.json();
    assert_eq!(report["schema_version"], 1, "{name}");
    let items = report["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: the JSON report has no diagnostics array"));
    for item in items {
        for key in [
            "code", "file", "line", "column", "severity", "message", "help",
        ] {
            assert!(item.get(key).is_some(), "{name}: no `{key}` in {item}");
        }
        assert!(item["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let found = items.iter().find(|i| {
        i["code"] == want.code.as_str()
            && i["file"] == want.file.as_str()
            && i["line"] == want.line
            && i["column"] == want.column
    });
    let Some(found) = found else {
        let got: Vec<String> = items
            .iter()
            .map(|i| format!("{} {}:{}:{}", i["code"], i["file"], i["line"], i["column"]))
            .collect();
        panic!(
            "{name}: expected {} at {}:{}:{}, got {got:#?}",
            want.code, want.file, want.line, want.column
        );
    };
    let severity = found["severity"].as_str().unwrap_or("");
    if want.exit == 2 {
        assert!(
            items.iter().any(|i| i["severity"] == "error"),
            "{name}: exit 2 without an error"
        );
    } else {
        assert!(
            items.iter().all(|i| i["severity"] == "warning"),
            "{name}: exit {} with an error",
            want.exit
        );
    }

    let text = secret(
        Cli::new()
            .arg("check")
            .site(case)
            .site_unchanged()
            .code(want.exit)
            .stderr_has(format!("{severity}[{}]", want.code))
            .stderr_has(format!("{}:{}:{}", want.file, want.line, want.column)),
    )
    .run();
    // Nothing from a site reaches the terminal raw: no escape sequence, no carriage return,
    // whatever the case holds (a binary file, an escape typed into a value).
    for (stream, text) in [("stderr", &text.stderr), ("stdout", &text.stdout)] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{name}: a control character on {stream}: {text:?}"
        );
    }
    let shown = format!(
        "exit: {}\n{}",
        text.code,
        cut_long_lines(
            &text
                .stderr
                .replace(&text.site_dir().display().to_string(), "[SITE]")
        )
    );
    insta::with_settings!({
        snapshot_path => "snapshots/bad-input",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("casa-build check --site tests/bad-input/{name}"),
    }, {
        insta::assert_snapshot!(name.as_str(), shown);
    });
}

/// A valid site at the edge of a rule: exit 0, the rule silent, the summary printed.
fn check_passing_case(case: &Path, name: &str, want: &Expect) {
    let json = Cli::new()
        .args(["check", "--format", "json"])
        .site(case)
        .site_unchanged()
        .code(0)
        .run();
    let report = json.json();
    assert_eq!(report["schema_version"], 1, "{name}");
    let items = report["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: the JSON report has no diagnostics array"));
    assert!(
        items.iter().all(|i| i["code"] != want.code.as_str()),
        "{name}: passes, yet {} is reported: {items:#?}",
        want.code
    );
    let text = Cli::new()
        .arg("check")
        .site(case)
        .site_unchanged()
        .code(0)
        .stdout_has("valid")
        .run();
    let shown = format!(
        "exit: {}\n{}{}",
        text.code,
        text.stdout,
        text.stderr
            .replace(&text.site_dir().display().to_string(), "[SITE]")
    );
    insta::with_settings!({
        snapshot_path => "snapshots/bad-input",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("casa-build check --site tests/bad-input/{name}"),
    }, {
        insta::assert_snapshot!(name, shown);
    });
}

#[test]
fn every_rule_of_the_component_range_has_a_failing_and_a_passing_case() {
    let cases = cases();
    let expects: Vec<Expect> = cases.iter().map(|c| expect(c)).collect();
    for info in casa_build::diagnostics::CODES
        .iter()
        .filter(|c| ("CB060"..="CB079").contains(&c.code.0) || c.code.0 == "CB038")
    {
        let code = info.code.0;
        assert!(
            expects.iter().any(|e| e.code == code && !e.passes),
            "no failing bad-input case for {code}"
        );
        assert!(
            expects.iter().any(|e| e.code == code && e.passes),
            "no passing bad-input case for {code}"
        );
    }
}

/// A snapshot keeps the first 300 characters of a line: a case holding a megabyte of
/// ciphertext on one line (`secret-too-large`) would otherwise commit it, and its carets,
/// twice over.
fn cut_long_lines(text: &str) -> String {
    const KEEP: usize = 300;
    text.lines()
        .map(|l| {
            let n = l.chars().count();
            if n > KEEP {
                let head: String = l.chars().take(KEEP).collect();
                format!("{head}… [{} more characters]", n - KEEP)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

#[test]
fn the_corpus_covers_every_code_the_check_can_report() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let covered: BTreeSet<String> = cases
        .iter()
        .map(|c| expect(c))
        .filter(|e| !e.passes)
        .map(|e| e.code)
        .collect();
    // CB050-CB059 come from the build stages (render, schema and reference checks), after
    // `check`; the environment's codes (no site, unusable schemas) need more than a site
    // folder and are covered by `corpus`; the danger review's compare two sides of a change
    // and are covered by `diff_git` and `diff_live`; every other code is the check's.
    let missing: Vec<&str> = casa_build::diagnostics::CODES
        .iter()
        .filter(|c| !c.code.is_environment() && !c.code.is_danger())
        .map(|c| c.code.0)
        .filter(|c| !casa_build::diagnostics::is_build_stage(c) && !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no bad-input case for {missing:?}");
}

#[test]
fn every_snapshot_belongs_to_a_case_and_holds_no_secret() {
    let cases = cases();
    let names: BTreeSet<String> = cases.iter().map(|c| name(c)).collect();
    let mut secrets: Vec<String> = cases.iter().filter_map(|c| expect(c).secret).collect();
    // The demo plaintexts sealed into the example site.
    secrets.extend(
        [
            "demo-dex-dex-env-CAMPUS_SSO_CLIENT_SECRET",
            "demo-dex-dex-env-CLIENT_PHYSICS_HUB_SECRET",
            "demo-physics-hub-hub-oauth-OAUTH_CLIENT_SECRET",
            "demo-af-hub-hub-oauth-OAUTH_CLIENT_SECRET",
        ]
        .map(String::from),
    );
    let dir = path("tests/cli/snapshots/bad-input");
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("tests/cli/snapshots/bad-input") {
        let p = entry.expect("directory entry").path();
        let file = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // Pending `.snap.new` files are insta's to report (and never written when CI is set).
        let Some(case) = file.strip_suffix(".snap") else {
            continue;
        };
        assert!(
            names.contains(case),
            "{file} has no case in tests/bad-input"
        );
        let text = read(&p);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{file} holds the secret {s:?}");
        }
        seen.insert(case.to_owned());
    }
    let without: Vec<_> = names.difference(&seen).collect();
    assert!(without.is_empty(), "cases without a snapshot: {without:?}");
}

#[test]
fn every_case_is_a_complete_site() {
    for case in cases() {
        let name = name(&case);
        assert!(case.join("site.toml").is_file(), "{name}: no site.toml");
        assert!(case.join("instances").is_dir(), "{name}: no instances/");
        let want = expect(&case);
        if want.passes {
            continue;
        }
        // A link counts: some cases are a link where a file belongs.
        assert!(
            std::fs::symlink_metadata(case.join(&want.file)).is_ok(),
            "{name}: no {}",
            want.file
        );
        assert!(
            [0, 2].contains(&want.exit),
            "{name}: exit {} (a bad input exits 2, or 0 with warnings only)",
            want.exit
        );
    }
}
