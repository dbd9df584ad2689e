//! `casa-build check` on valid sites (summary, JSON), on site folders that cannot be read
//! (exit 3: trouble outside the input), and `casa-build explain`. Invalid sites are the
//! bad-input corpus's (bad_input.rs).

use crate::support::{Cli, SMALL_SITE, tempdir};

#[test]
fn reference_site_is_valid_and_summarised() {
    let run = Cli::new()
        .arg("check")
        .reference_site()
        .code(0)
        .stdout_has("site flatiron (flatiron.hollandhpc.org): valid")
        .stdout_has("nodes: 33 (3 control-plane, 12 storage, 30 worker, 2 gpu, 16 desktop)")
        .stdout_has("ceph: 600 OSDs on 12 hosts (5 per device)")
        .stdout_has("raw 349.2 TiB, usable 110.6 TiB (3x replica")
        .stdout_has("gpus: 2x Tesla-P100-PCIE-16GB, 1x Tesla-V100S-PCIE-32GB")
        .stdout_has("instances: 4")
        .run();
    for (name, host) in [
        ("cms-prod", "https://coffea.casa"),
        ("cms-dev", "https://hub.cmsaf-dev.flatiron.hollandhpc.org"),
        ("opendata-prod", "https://coffea-opendata.casa"),
        ("opendata-dev", "https://coffea-opendata-dev.casa"),
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains(host)),
            "no line for {name} at {host}:\n{}",
            run.stdout
        );
    }
    assert_eq!(run.stderr, "", "a valid site prints no diagnostics");
    insta::assert_snapshot!("reference_summary", run.stdout);
}

#[test]
fn small_site_is_valid() {
    let run = Cli::new()
        .arg("check")
        .site(SMALL_SITE)
        .site_unchanged()
        .code(0)
        .stdout_has("site physics-testbed (testbed.physics.example.org): valid")
        .stdout_has("nodes: 3 (3 control-plane, 3 storage, 3 worker)")
        .stdout_has("gpus: none")
        .stdout_has("instances: 1")
        .run();
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!("small_site_summary", run.stdout);
}

/// `check -o json` on a valid site is its summary as data, beside the (empty) diagnostics.
#[test]
fn json_on_a_valid_site_is_the_summary() {
    let run = Cli::new()
        .args(["check", "-o", "json"])
        .reference_site()
        .code(0)
        .run();
    let j = run.json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["valid"], true);
    assert_eq!(j["diagnostics"], serde_json::json!([]));
    assert_eq!(j["errors"], 0);
    let s = &j["summary"];
    assert_eq!(s["site"], "flatiron");
    assert_eq!(s["nodes"], 33);
    assert_eq!(s["roles"]["storage"], 12);
    assert_eq!(s["ceph"]["osds"], 600);
    assert_eq!(s["ceph"]["hosts"], 12);
    assert_eq!(s["gpus"]["Tesla-V100S-PCIE-32GB"], 1);
    assert_eq!(s["instances"].as_array().map(Vec::len), Some(4));
    assert_eq!(run.stderr, "");
    // `--format` is the same flag under its older name.
    let old = Cli::new()
        .args(["check", "--format", "json"])
        .site(SMALL_SITE)
        .code(0)
        .run();
    assert_eq!(old.json()["summary"]["site"], "physics-testbed");
}

/// An invalid site as JSON: the common fields only, `valid` false, exit 2.
#[test]
fn json_on_an_invalid_site_lists_every_problem() {
    let cli = Cli::new().args(["check", "-o", "json"]).site(SMALL_SITE);
    let file = cli.site_dir().join("site.toml");
    let text = std::fs::read_to_string(&file).expect("site.toml");
    std::fs::write(&file, text.replace("port = 8443", "port = \"8443\"")).expect("write");
    let run = cli.code(2).run();
    let j = run.json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["valid"], false);
    assert_eq!(j["summary"], serde_json::Value::Null);
    assert_eq!(j["errors"], 1);
    assert_eq!(j["diagnostics"][0]["code"], "CB003");
}

#[test]
fn a_missing_site_folder_is_trouble_not_invalid_input() {
    let tmp = tempdir();
    let gone = tmp.path().join("no-such-site");
    Cli::new()
        .arg("check")
        .arg("--site")
        .arg(&gone)
        .code(3)
        .stdout("")
        .stderr_has(format!("no site folder at {}", gone.display()))
        .run();
}

#[test]
fn a_folder_without_site_toml_is_trouble() {
    let tmp = tempdir();
    Cli::new()
        .arg("check")
        .arg("--site")
        .arg(tmp.path())
        .code(3)
        .stdout("")
        .stderr_has(format!("no site.toml in {}", tmp.path().display()))
        .run();
}

#[test]
fn an_instance_that_is_not_a_file_is_refused_as_bad_input() {
    // A folder named like an instance file is bad input, reported at its path; the other
    // files are still checked.
    let cli = Cli::new().arg("check").site(SMALL_SITE);
    let odd = cli.site_dir().join("instances/x.toml");
    std::fs::create_dir(&odd).expect("create instances/x.toml/");
    cli.code(2)
        .stdout("")
        .stderr_has(
            "error[CB100]: instances/x.toml is a folder, not a regular file; it was not read",
        )
        .stderr_has("instances/x.toml:1:1")
        .run();
}

#[test]
fn explain_prints_a_code() {
    Cli::new()
        .args(["explain", "CB012"])
        .code(0)
        .stdout_has("CB012 cidr-overlap (error)")
        .stdout_has("What: two address ranges that must be disjoint overlap")
        .stdout_has("Fix:")
        .run();
    // Codes are matched without regard to case, as typed from a terminal.
    Cli::new()
        .args(["explain", "cb026"])
        .code(0)
        .stdout_has("CB026 capacity-mismatch (warning)")
        .run();
}

#[test]
fn explain_refuses_an_unknown_code() {
    let run = Cli::new()
        .args(["explain", "CB999"])
        .stdout("")
        .stderr_has("no diagnostic code CB999")
        .run();
    assert_ne!(run.code, 0);
}

/// Three mistakes in one file are three errors in one run, each at its line with its fix:
/// a misspelt key, a quoted number, and `[profile]` where `[[profile]]` belongs.
#[test]
fn three_mistakes_in_one_file_are_three_errors_in_one_run() {
    let cli = Cli::new().arg("check").site(SMALL_SITE);
    let hub = cli.site_dir().join("instances/physics-hub.toml");
    let text = std::fs::read_to_string(&hub).expect("hub");
    let text = text
        .replace("home = {", "hom = {")
        .replace("uid = 1000", "uid = \"1000\"")
        .replace("[[profile]]", "[profile]");
    std::fs::write(&hub, text).expect("write");
    let run = cli
        .code(2)
        .site_unchanged()
        .stderr_has("error[CB002]: unknown key `hom` in [singleuser]")
        .stderr_has("instances/physics-hub.toml:23:1")
        .stderr_has("help: did you mean `home`?")
        .stderr_has("error[CB003]: `uid` takes a whole number, not a string `\"1000\"`")
        .stderr_has("instances/physics-hub.toml:21:7")
        .stderr_has("help: remove the quotes: `uid = 1000`")
        .stderr_has(
            "error[CB003]: `profile` is a list of tables, but `[profile]` makes a single table",
        )
        .stderr_has("instances/physics-hub.toml:28:1")
        .stderr_has("help: write the header as `[[profile]]`")
        .stderr_has("3 error(s), 0 warning(s)")
        .run();
    assert!(
        !run.stderr.contains("expected"),
        "serde's wording: {}",
        run.stderr
    );
}
