//! The command-line conventions every command follows (README "Command-line conventions"):
//! `-o/--output FORMAT` as kubectl, `--out-file` for a report file, `--color` and `NO_COLOR`,
//! one JSON object with `schema_version` per command, completions, the man page, examples in
//! `--help`, `explain` listing every code.

use crate::diff_git::GitSite;
use crate::support::{Cli, SMALL_SITE, tempdir};

const ESC: char = '\u{1b}';

/// A copy of the small site with `port = "8443"`: one diagnostic to colour.
fn invalid_small_site(cli: Cli) -> Cli {
    let cli = cli.site(SMALL_SITE);
    let file = cli.site_dir().join("site.toml");
    let text = std::fs::read_to_string(&file).expect("site.toml");
    std::fs::write(&file, text.replace("port = 8443", "port = \"8443\"")).expect("write");
    cli
}

#[test]
fn color_always_colours_diagnostics_even_with_no_color_set() {
    let run = invalid_small_site(Cli::new().args(["--color", "always", "check"]))
        .env("NO_COLOR", "1")
        .code(2)
        .run();
    assert!(run.stderr.contains(ESC), "{}", run.stderr);
    // The text under the colour is the plain report.
    let plain = anstream::adapter::strip_str(&run.stderr).to_string();
    assert!(
        plain.contains("error[CB003]: `port` takes a whole number"),
        "{plain}"
    );
}

#[test]
fn color_never_and_auto_off_a_terminal_print_no_escape() {
    for args in [&["check", "--color", "never"][..], &["check"][..]] {
        let run = invalid_small_site(Cli::new().args(args)).code(2).run();
        assert!(!run.stderr.contains(ESC), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error[CB003]"), "{}", run.stderr);
    }
    // A value outside auto|always|never is a usage error.
    Cli::new()
        .args(["check", "--color", "sometimes"])
        .site(SMALL_SITE)
        .code(64)
        .stderr_has("invalid value 'sometimes' for '--color <WHEN>'")
        .run();
}

#[test]
fn diffs_are_coloured_like_git_when_asked() {
    let site = GitSite::reference();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    let run = site.diff("HEAD", &["--color", "always"]).code(1).run();
    assert!(
        run.stdout.contains(&format!("{ESC}[32m+")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{ESC}[31m-")),
        "{}",
        run.stdout
    );
    let plain = site.diff("HEAD", &[]).code(1).run();
    assert!(!plain.stdout.contains(ESC), "{}", plain.stdout);
    assert_eq!(
        anstream::adapter::strip_str(&run.stdout).to_string(),
        plain.stdout
    );
}

#[test]
fn output_is_the_format_and_out_file_the_report_file() {
    let site = GitSite::reference();
    site.edit(
        "instances/cms-prod.toml",
        "size = \"10Gi\"",
        "size = \"20Gi\"",
    );
    let dir = tempdir();
    let file = dir.path().join("diff.md");
    let run = site
        .diff(
            "HEAD",
            &[
                "-o",
                "markdown",
                "--out-file",
                file.to_str().expect("utf-8"),
            ],
        )
        .code(1)
        .run();
    let full = std::fs::read_to_string(&file).expect("the report file");
    assert!(full.contains("HelmRelease"), "{full}");
    assert!(run.stdout.contains("<details>"), "{}", run.stdout);
    // `--output` takes a format, so a file name there is refused, not written to.
    site.diff("HEAD", &["--output", "diff.md"])
        .code(64)
        .stderr_has("invalid value 'diff.md' for '--output <FORMAT>'")
        .run();
    assert!(!site.path().join("diff.md").exists());
    assert!(!site.path().join("json").exists());
}

#[test]
fn every_command_prints_one_json_object_with_a_schema_version() {
    let out = tempdir();
    let build = Cli::new()
        .args(["build", "-o", "json", "--out"])
        .arg(out.path().join("tree"))
        .site(SMALL_SITE)
        .code(0)
        .run();
    let j = build.json();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["written"], true);
    assert!(j["objects"].as_u64().is_some_and(|n| n > 10), "{j}");
    let check = Cli::new()
        .args(["build", "--check", "-o", "json", "--out"])
        .arg(out.path().join("tree"))
        .site(SMALL_SITE)
        .code(0)
        .run();
    assert_eq!(check.json()["up_to_date"], true);
    assert_eq!(check.json()["schema_version"], 1);
    let secrets = Cli::new()
        .args(["secrets", "list", "-o", "json"])
        .site(SMALL_SITE)
        .code(0)
        .run();
    assert_eq!(secrets.json()["schema_version"], 1);
    assert!(secrets.json()["secrets"].as_array().is_some());
    let explain = Cli::new()
        .args(["explain", "CB012", "-o", "json"])
        .code(0)
        .run();
    assert_eq!(explain.json()["schema_version"], 1);
    assert_eq!(explain.json()["name"], "cidr-overlap");
    // A site that is not there: the diagnostics alone, still one object.
    let missing = Cli::new()
        .args(["check", "-o", "json", "--site"])
        .arg(out.path().join("nowhere"))
        .code(3)
        .run();
    assert_eq!(missing.json()["schema_version"], 1);
    assert_eq!(missing.json()["diagnostics"][0]["code"], "CB140");
    for run in [&build, &check, &secrets, &explain, &missing] {
        assert_eq!(run.stderr, "", "JSON runs print nothing else");
    }
}

#[test]
fn explain_without_a_code_lists_every_code() {
    let run = Cli::new().arg("explain").code(0).run();
    let codes = casa_build::diagnostics::CODES;
    let lines: Vec<_> = run.stdout.lines().filter(|l| l.starts_with("CB")).collect();
    assert_eq!(lines.len(), codes.len(), "{}", run.stdout);
    for c in codes {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(c.code.0) && l.contains(c.name)),
            "{} missing",
            c.code
        );
    }
    let json = Cli::new().args(["explain", "-o", "json"]).code(0).run();
    assert_eq!(
        json.json()["codes"].as_array().map(Vec::len),
        Some(codes.len())
    );
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef casa-build"),
        ("fish", "complete -c casa-build"),
        ("elvish", "casa-build"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = Cli::new().args(["completions", shell]).code(0).run();
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("explain"), "{shell}: no subcommands");
    }
    let man = Cli::new().arg("man").code(0).run();
    assert!(man.stdout.contains(".TH casa-build 1"), "{}", man.stdout);
    assert!(man.stdout.contains("completions"), "{}", man.stdout);
    Cli::new()
        .args(["completions", "tcsh"])
        .code(64)
        .stderr_has("invalid value 'tcsh'")
        .run();
}

#[test]
fn every_command_help_ends_with_examples() {
    for cmd in [
        "build",
        "check",
        "diff",
        "seal",
        "explain",
        "completions",
        "man",
        "secrets",
        "init",
        "commit",
        "schema",
    ] {
        let run = Cli::new().args([cmd, "--help"]).code(0).run();
        assert!(
            run.stdout.contains("\nExamples:\n  casa-build "),
            "{cmd} --help has no examples:\n{}",
            run.stdout
        );
    }
}
