//! Planted secrets: every command runs on sites, repositories, environments and kubeconfigs
//! holding secrets where a pull request or a careless operator puts them (a plaintext typed
//! into a secret field, with the syntax broken in each way a line can break; the same in the
//! base commit of a pull request; the CI environment behind a link to `/proc/self/environ`;
//! a template linked to a credentials file; a kubeconfig's token, password, exec plugin output
//! and client key), and none of them may appear on standard output or error, in a report
//! file, or in out/.

use std::path::Path;

use crate::diff_git::{GitSite, schemas};
use crate::support::{Cli, SMALL_SITE, read, tempdir};

/// Each planted value, distinct so that a finding names its source.
const BARE: &str = "planted-bare-word-3141";
const UNCLOSED: &str = "planted-unclosed-2718";
const DUPLICATE: &str = "planted-duplicate-1618";
const IN_TABLE: &str = "planted-in-a-table-1414";
const AS_SEALED: &str = "planted as the ciphertext 1732";
const BASE_ONLY: &str = "planted-in-the-base-commit-2236";
const ENVIRON: &str = "planted-environ-token-4669";
const TEMPLATE: &str = "planted-template-credential-1123";
const KUBE_TOKEN: &str = "planted-kube-token-5772";
const KUBE_PASSWORD: &str = "planted-kube-password-6931";
const EXEC_TOKEN: &str = "planted-exec-token-8862";
const STDIN: &str = "planted-stdin-value-9999";

const ALL: &[&str] = &[
    BARE,
    UNCLOSED,
    DUPLICATE,
    IN_TABLE,
    AS_SEALED,
    BASE_ONLY,
    ENVIRON,
    TEMPLATE,
    KUBE_TOKEN,
    KUBE_PASSWORD,
    EXEC_TOKEN,
    STDIN,
];

const HUB: &str = "instances/physics-hub.toml";

fn never(mut cli: Cli) -> Cli {
    for s in ALL {
        cli = cli.never_prints(*s);
    }
    cli
}

/// Every file under `dir`, as text, must hold no planted value.
#[track_caller]
fn assert_clean_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                for s in ALL {
                    assert!(!text.contains(s), "{} holds {s:?}", p.display());
                }
            }
        }
    }
}

/// The hub's client-secret line replaced by `line`.
fn with_secret_line(text: &str, line: &str) -> String {
    let old = text
        .lines()
        .find(|l| l.starts_with("client_secret = "))
        .expect("the hub's secret line");
    text.replacen(old, line, 1)
}

/// The broken secret lines of a careless edit, one per variant.
fn broken_lines() -> Vec<String> {
    vec![
        format!("client_secret = {BARE}"),
        format!("client_secret = \"{UNCLOSED}"),
        format!("client_secret = \"{DUPLICATE}\"\nclient_secret = \"{DUPLICATE}\""),
        format!("client_secret = {{ value = \"{IN_TABLE}\", key = \"OAUTH_CLIENT_SECRET\" }}"),
        format!(
            "client_secret = {{ sealed = \"{AS_SEALED}\", namespace = \"physics-hub\", name = \"hub-oauth\", key = \"OAUTH_CLIENT_SECRET\" }}"
        ),
    ]
}

#[test]
fn no_command_prints_a_plaintext_typed_into_a_secret_field() {
    for line in broken_lines() {
        let cli = Cli::new().site(SMALL_SITE);
        let hub = cli.site_dir().join(HUB);
        std::fs::write(&hub, with_secret_line(&read(&hub), &line)).unwrap();
        let site = cli.site_dir().to_path_buf();
        for args in [vec!["check"], vec!["check", "--format", "json"]] {
            never(Cli::new().args(&args).arg("--site").arg(&site))
                .code(2)
                .run();
        }
        // A plaintext pasted as `sealed` loads (the list calls it malformed): what matters
        // here is only that nothing shows it.
        for args in [
            vec!["secrets", "list"],
            vec!["secrets", "list", "--format", "json"],
        ] {
            never(Cli::new().args(&args).arg("--site").arg(&site)).run();
        }
        let schemas = schemas();
        for args in [vec!["build"], vec!["build", "--check"]] {
            never(
                Cli::new()
                    .args(&args)
                    .arg("--schemas")
                    .arg(&schemas)
                    .arg("--site")
                    .arg(&site),
            )
            .code(2)
            .run();
        }
        never(
            Cli::new()
                .args(["seal", &format!("{HUB}#auth.client_secret")])
                .arg("--site")
                .arg(&site)
                .stdin(STDIN),
        )
        .run();
        drop(cli);
    }
}

#[test]
fn a_pull_request_diff_never_shows_a_plaintext_of_either_side() {
    for line in broken_lines() {
        // The base commit holds one plaintext; the head, in the work tree, another.
        let site = GitSite::reference_of(SMALL_SITE);
        let hub = read(&site.path().join(HUB));
        site.write(
            HUB,
            &with_secret_line(&hub, &format!("client_secret = \"{BASE_ONLY}")),
        );
        site.commit_all("a broken secret");
        site.write(HUB, &with_secret_line(&hub, &line));
        let report = tempdir();
        for format in ["text", "markdown", "json"] {
            let file = report.path().join(format!("diff.{format}"));
            never(site.diff(
                "HEAD",
                &["--format", format, "--out-file", file.to_str().unwrap()],
            ))
            .code(2)
            .stderr_has("is invalid")
            .run();
        }
        assert_clean_files(report.path());
        // `commit` of the staged plaintext refuses without showing it.
        site.stage(HUB);
        never(
            Cli::new()
                .arg("commit")
                .arg("--schemas")
                .arg(schemas())
                .arg("--site")
                .arg(site.path()),
        )
        .code(2)
        .run();
    }
}

#[test]
fn the_environment_and_files_out_of_the_site_are_never_read() {
    let cli = Cli::new().site(SMALL_SITE);
    let site = cli.site_dir().to_path_buf();
    std::os::unix::fs::symlink("/proc/self/environ", site.join("instances/env.toml")).unwrap();
    let outside = tempdir();
    std::fs::write(
        outside.path().join("credentials"),
        format!("[default]\naws_secret_access_key = {TEMPLATE}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(site.join("templates/dex")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("credentials"),
        site.join("templates/dex/namespace.yaml.j2"),
    )
    .unwrap();
    for args in [vec!["check"], vec!["secrets", "list"]] {
        never(
            Cli::new()
                .args(&args)
                .arg("--site")
                .arg(&site)
                .env("CASA_PLANTED", ENVIRON),
        )
        .code(2)
        .stderr_has("CB100")
        .run();
    }
    never(
        Cli::new()
            .args(["check", "--format", "json", "--site"])
            .arg(&site)
            .env("CASA_PLANTED", ENVIRON),
    )
    .code(2)
    .stdout_has("CB100")
    .run();
    never(
        Cli::new()
            .args(["build", "--schemas"])
            .arg(schemas())
            .arg("--site")
            .arg(&site)
            .env("CASA_PLANTED", ENVIRON),
    )
    .code(2)
    .run();
    assert!(!site.join("out").exists());

    // The same link in the base commit of a pull request, and the comment it would post.
    let repo = GitSite::reference_of(SMALL_SITE);
    std::os::unix::fs::symlink("/proc/self/environ", repo.path().join("instances/env.toml"))
        .unwrap();
    repo.commit_all("a link to the CI environment");
    repo.remove("instances/env.toml");
    let report = tempdir();
    let file = report.path().join("diff.md");
    never(
        repo.diff(
            "HEAD",
            &["--format", "markdown", "--out-file", file.to_str().unwrap()],
        )
        .env("CASA_PLANTED", ENVIRON),
    )
    .code(2)
    .stdout_has("is a symbolic link to /proc/self/environ, outside the site folder")
    .run();
    assert_clean_files(report.path());
}

#[test]
fn kubeconfig_credentials_are_never_printed() {
    let dir = tempdir();
    let plugin = dir.path().join("credential-plugin");
    // An exec plugin that answers with a token, and one that prints it and fails. (What a
    // plugin writes on its standard error is its own word to the user and is passed through,
    // as kubectl passes it: the token is not planted there.)
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nprintf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{EXEC_TOKEN}\"}}}}'\n"
        ),
    )
    .unwrap();
    let failing = dir.path().join("failing-plugin");
    std::fs::write(
        &failing,
        format!("#!/bin/sh\necho 'login expired' >&2\necho '{EXEC_TOKEN}'\nexit 1\n"),
    )
    .unwrap();
    for p in [&plugin, &failing] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let key = read(&crate::support::path("tests/fixtures/demo-sealing/tls.key"));
    let key_data = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
    };
    // Port 1 on loopback: nothing listens, every request fails at once and is reported.
    let users = [
        format!("    token: {KUBE_TOKEN}\n"),
        format!("    username: admin\n    password: {KUBE_PASSWORD}\n"),
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            plugin.display()
        ),
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            failing.display()
        ),
        format!("    client-key-data: {key_data}\n    client-certificate-data: {key_data}\n"),
    ];
    for (i, user) in users.iter().enumerate() {
        let server = format!("https://admin:{KUBE_PASSWORD}@127.0.0.1:1");
        let config = dir.path().join(format!("kubeconfig-{i}"));
        std::fs::write(
            &config,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n\
                 contexts:\n- name: lab\n  context:\n    cluster: c\n    user: u\n\
                 current-context: lab\nusers:\n- name: u\n  user:\n{user}"
            ),
        )
        .unwrap();
        for format in ["text", "json", "markdown"] {
            let run = never(
                Cli::new()
                    .args(["diff", "--live", "--timeout", "2", "--format", format])
                    .arg("--kubeconfig")
                    .arg(&config)
                    .arg("--schemas")
                    .arg(schemas())
                    .site(SMALL_SITE),
            )
            .code(3)
            .run();
            // The key's lines are secrets too.
            for line in key.lines().filter(|l| !l.starts_with("-----")).take(3) {
                assert!(!run.stderr.contains(line) && !run.stdout.contains(line));
            }
        }
    }
}

#[test]
fn sealing_and_building_never_print_the_value_and_the_tree_never_holds_it() {
    let cli = Cli::new().site(SMALL_SITE);
    let site = cli.site_dir().to_path_buf();
    never(
        Cli::new()
            .args(["seal", &format!("{HUB}#auth.client_secret")])
            .arg("--site")
            .arg(&site)
            .stdin(STDIN),
    )
    .code(0)
    .run();
    for args in [vec!["build"], vec!["build", "--check"]] {
        never(
            Cli::new()
                .args(&args)
                .arg("--schemas")
                .arg(schemas())
                .arg("--site")
                .arg(&site),
        )
        .run();
    }
    for args in [vec!["check"], vec!["secrets", "list", "--format", "json"]] {
        never(Cli::new().args(&args).arg("--site").arg(&site))
            .code(0)
            .run();
    }
    never(Cli::new().args(["explain", "CB005"])).code(0).run();
    assert_clean_files(&site);
    drop(cli);
}
