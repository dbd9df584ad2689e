//! Exit codes, one test per code, and what decides them whatever the command: `--help` lists
//! them; a closed standard output ends a command quietly with the code it would have had;
//! the site is found from any folder below it, or given as its folder or its `site.toml`.

use crate::support::{Cli, SMALL_SITE, path};

const BROKEN_TOML: (&str, &str) = ("[site]", "[site\n");

fn break_site(cli: Cli) -> Cli {
    let file = cli.site_dir().join("site.toml");
    let text = std::fs::read_to_string(&file).expect("site.toml");
    std::fs::write(&file, text.replacen(BROKEN_TOML.0, BROKEN_TOML.1, 1)).expect("edit");
    cli
}

#[test]
fn exit_0_a_valid_site_built_and_up_to_date() {
    Cli::new().arg("check").site(SMALL_SITE).code(0).run();
    Cli::new()
        .args(["build", "--check", "--site"])
        .arg(path("."))
        .code(0)
        .run();
}

#[test]
fn exit_1_out_of_date() {
    Cli::new()
        .args(["build", "--check"])
        .site(SMALL_SITE)
        .code(1)
        .stdout_has("is out of date")
        .run();
}

#[test]
fn exit_2_an_invalid_site() {
    break_site(Cli::new().arg("build").site(SMALL_SITE).site_unchanged())
        .code(2)
        .stderr_has("error[CB001]")
        .run();
}

#[test]
fn exit_3_the_environment_failed() {
    // No site where the command looked.
    Cli::new()
        .arg("check")
        .code(3)
        .stderr_has("error[CB140]")
        .stderr_has("or any folder above it")
        .run();
    // A schema location that is not one: its own code, not CB053 unknown-kind.
    Cli::new()
        .args(["check", "--schemas", "/nonexistent/schemas"])
        .site(SMALL_SITE)
        .code(3)
        .stderr_has("error[CB141]")
        .stderr_has("/nonexistent/schemas (from --schemas) does not exist")
        .run();
    Cli::new()
        .arg("build")
        .env("CASA_SCHEMAS", "/nonexistent/env-schemas")
        .site(SMALL_SITE)
        .site_unchanged()
        .code(3)
        .stderr_has("error[CB141]")
        .stderr_has("(from CASA_SCHEMAS) does not exist")
        .run();
    // Git: not a repository.
    Cli::new()
        .args(["diff", "--base", "HEAD"])
        .site(SMALL_SITE)
        .code(3)
        .stderr_has("is not inside a git repository")
        .run();
}

#[test]
fn exit_3_outranks_exit_2_when_the_schemas_cannot_be_read_for_an_invalid_site() {
    // `check` reports both, and the environment decides the code.
    let cli = Cli::new()
        .args(["check", "--schemas", "/nonexistent/schemas"])
        .site(SMALL_SITE);
    let file = cli.site_dir().join("site.toml");
    let text = std::fs::read_to_string(&file).expect("site.toml");
    std::fs::write(
        &file,
        text.replacen("osds_per_device = ", "osds_per_device = 9 #", 1),
    )
    .expect("edit");
    cli.code(3)
        .stderr_has("error[CB141]")
        .stderr_has("error[CB023]")
        .run();
}

#[test]
fn exit_64_a_usage_error() {
    for args in [
        &["biuld"][..],
        &["diff", "--bse", "main"],
        &["build", "--format", "yaml"],
        &["explain", "CB999"],
        &[],
    ] {
        Cli::new().args(args).code(64).run();
    }
    // --help is not an error.
    Cli::new().arg("--help").code(0).run();
}

#[test]
fn help_documents_the_exit_codes_and_the_schema_precedence() {
    let run = Cli::new().arg("--help").code(0).run();
    for line in [
        "Exit codes:",
        "  0   success",
        "  1   differences (diff) or out/ out of date (build --check)",
        "  2   the site is invalid",
        "  3   the environment failed",
        "  64  usage error",
        "--schemas DIR, then\nCASA_SCHEMAS, then [site] schemas in site.toml, then the embedded catalog",
    ] {
        assert!(
            run.stdout.contains(line),
            "--help lacks {line:?}:\n{}",
            run.stdout
        );
    }
    let readme = std::fs::read_to_string(path("README.md")).expect("README.md");
    for code in ["| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 64 |"] {
        assert!(
            readme.contains(code),
            "the README's exit code table lacks {code}"
        );
    }
}

#[test]
fn a_closed_standard_output_ends_quietly_with_the_commands_own_code() {
    // `casa-build check 2>&1 | head -0`, with both streams the pipe whose reader is gone.
    Cli::new()
        .arg("check")
        .site(SMALL_SITE)
        .closed_output()
        .code(0)
        .run();
    Cli::new()
        .args(["check", "--format", "json"])
        .site(SMALL_SITE)
        .closed_output()
        .code(0)
        .run();
    break_site(Cli::new().arg("check").site(SMALL_SITE))
        .closed_output()
        .code(2)
        .run();
    Cli::new()
        .args(["build", "--check"])
        .site(SMALL_SITE)
        .closed_output()
        .code(1)
        .run();
    Cli::new()
        .args(["secrets", "list"])
        .site(SMALL_SITE)
        .closed_output()
        .code(0)
        .run();
    Cli::new().arg("--help").closed_output().code(0).run();
    // The command still does its work: the tree is written though nobody reads the summary.
    let run = Cli::new()
        .arg("build")
        .site(SMALL_SITE)
        .closed_output()
        .code(0)
        .run();
    assert!(run.site_dir().join("out/clusters/physics-testbed").is_dir());
}

#[test]
fn the_site_is_found_from_any_folder_below_it() {
    Cli::new()
        .arg("check")
        .site(SMALL_SITE)
        .in_site_folder("instances")
        .code(0)
        .stdout_has("site physics-testbed")
        .run();
    // build from instances/ writes the site's out/, not instances/out/.
    let run = Cli::new()
        .arg("build")
        .site(SMALL_SITE)
        .in_site_folder("instances")
        .code(0)
        .stdout_has("../out")
        .run();
    assert!(run.site_dir().join("out/clusters/physics-testbed").is_dir());
    assert!(!run.site_dir().join("instances/out").exists());
    Cli::new()
        .arg("secrets")
        .arg("list")
        .site(SMALL_SITE)
        .in_site_folder(".")
        .code(0)
        .run();
}

#[test]
fn site_takes_the_folder_or_its_site_toml() {
    let cli = Cli::new().arg("check").site(SMALL_SITE);
    let file = cli.site_dir().join("site.toml");
    cli.arg("--site")
        .arg(file)
        .in_site_folder("instances")
        .code(0)
        .stdout_has("valid")
        .run();
}
