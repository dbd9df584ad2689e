//! Bad input for every command but `check` (whose corpus is the folder `tests/bad-input/`):
//! `build`, `seal`, `secrets list`, `diff --base`, `diff --live`, `commit`, `explain`,
//! `schema`. One table row per case: the command line, the site it runs on and the edit that
//! breaks it, the exit code, and what the message must say. Every run also passes the
//! checks of `support::Cli` (no panic, no signal, nothing written to the working directory),
//! and a failing run must leave the site folder as it was (no out/, no half-sealed value).
//!
//! In `args`, `{schemas}` is the shared schema location, `{certs}` the test certificates,
//! `{scratch}` an empty folder of the case's own and `{site}` the site copy, which is passed
//! as `--site` last.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::support::{Cli, SMALL_SITE, path, read, tempdir};

/// What a case runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum On {
    /// A copy of `examples/small-site`, passed as `--site`.
    Small,
    /// The same copy, committed as the only commit of a git repository.
    Repo,
    /// No site: `args` say where (or nothing needs one).
    Nothing,
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    on: On,
    /// Breaks the copy (site folder, scratch folder) before the run.
    edit: fn(&Path, &Path),
    stdin: Option<&'static str>,
    /// Standard input made by the case (too large to write out).
    stdin_of: Option<fn() -> Vec<u8>>,
    code: i32,
    /// The message must say each of these (on standard error, or standard output for
    /// `build --check`'s list and `secrets list`).
    says: &'static [&'static str],
    /// Text that must appear nowhere (a ciphertext the site holds).
    never: &'static [&'static str],
}

const LOCATION: &str = "instances/physics-hub.toml#auth.client_secret";
/// The first 40 characters of the small site's hub OAuth ciphertext: a value cut short.
const CUT_CIPHERTEXT: &str = "AgBiKAEbczaOYLdqdaJvW599lDCDhF3/TY+vIozC";

fn keep(_: &Path, _: &Path) {}

/// Replaces the first `from` in a file of the site copy; the case is broken if it is absent.
#[track_caller]
fn replace(site: &Path, file: &str, from: &str, to: &str) {
    let p = site.join(file);
    let text = read(&p);
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).expect("edit the site copy");
}

#[track_caller]
fn put(dir: &Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("create a folder");
    std::fs::write(p, bytes).expect("write a file of the case");
}

/// Cuts the hub's sealed OAuth secret to its first 40 characters.
fn cut_ciphertext(site: &Path, _: &Path) {
    let file = "instances/physics-hub.toml";
    let text = read(&site.join(file));
    let start = text.find("sealed = \"").expect("a sealed value") + "sealed = \"".len();
    let end = start + text[start..].find('"').expect("its end");
    assert!(text[start..end].starts_with(CUT_CIPHERTEXT));
    let cut = format!("{}{}", &text[..start + CUT_CIPHERTEXT.len()], &text[end..]);
    std::fs::write(site.join(file), cut).expect("edit the site copy");
}

fn kubeconfig(server: &str, context: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n\
         contexts:\n- name: {context}\n  context:\n    cluster: c\n    user: u\n\
         current-context: {context}\nusers:\n- name: u\n  user:\n    token: not-a-real-token\n"
    )
}

const BROKEN_TOML: (&str, &str) = ("[site]", "[site\n");

static CASES: &[Case] = &[
    // ---- build ----
    Case {
        name: "build-schema-location-missing",
        args: &["build", "--schemas", "{scratch}/nowhere"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["error[CB141]", "/nowhere (from --schemas) does not exist"],
        never: &[],
    },
    Case {
        name: "build-schema-location-not-kubeconform-layout",
        args: &["build", "--schemas", "{scratch}"],
        on: On::Small,
        edit: |_, scratch| put(scratch, "schemas-of-something/a.json", b"{}"),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "has none of k8s/, crds/, charts/",
            "not laid out like kubeconform's",
        ],
        never: &[],
    },
    Case {
        name: "build-schema-location-is-a-file",
        args: &["build", "--schemas", "{scratch}/schemas.tar"],
        on: On::Small,
        edit: |_, scratch| put(scratch, "schemas.tar", b"not a folder"),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "schemas.tar (from --schemas) is not a folder",
        ],
        never: &[],
    },
    Case {
        name: "build-schema-file-not-json",
        args: &["build", "--schemas", "{scratch}"],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "k8s/v1.36.0-standalone-strict/namespace-v1.json",
                b"{not json",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "invalid json in",
            "v1.36.0-standalone-strict/namespace-v1.json",
        ],
        never: &[],
    },
    Case {
        name: "build-schema-file-not-a-schema",
        args: &["build", "--schemas", "{scratch}"],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "crds/metallb.io/ipaddresspool_v1beta1.json",
                b"{\"type\": 12}",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "ipaddresspool_v1beta1.json does not compile",
        ],
        never: &[],
    },
    Case {
        name: "build-chart-defaults-not-yaml",
        args: &["build", "--schemas", "{scratch}"],
        on: On::Small,
        edit: |_, scratch| {
            put(scratch, "charts/traefik/values.yaml", b"ports: [unclosed\n");
            put(scratch, "charts/traefik/values.schema.json", b"{}");
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "invalid yaml in",
            "charts/traefik/values.yaml",
        ],
        never: &[],
    },
    Case {
        name: "build-schemas-for-another-kubernetes-version",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            replace(
                site,
                "site.toml",
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.30\"",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB006]",
            "no schemas for Kubernetes 1.30",
            "1.27, 1.33 to 1.37 in ",
            "(from --schemas); 1.33 to 1.37 in the embedded catalog",
            "site.toml:15:22",
        ],
        never: &[],
    },
    Case {
        name: "build-schema-location-in-site-toml-missing",
        args: &["build"],
        on: On::Small,
        edit: |site, _| {
            replace(
                site,
                "site.toml",
                "kubernetes_version = \"1.36\"",
                "kubernetes_version = \"1.36\"\nschemas = \"no-schemas-here\"",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB141]",
            "no-schemas-here (from [site] schemas) does not exist",
            "site.toml:16:11",
        ],
        never: &[],
    },
    Case {
        name: "build-template-override-syntax-error",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/namespace.yaml.j2",
                b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ site.dex.namespace }\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB050]", "syntax error", "dex/namespace.yaml.j2:4"],
        never: &[],
    },
    Case {
        name: "build-template-override-undefined-value",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/namespace.yaml.j2",
                b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ site.dex.namepsace }}\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB050]", "`site.dex.namepsace` is undefined"],
        never: &[],
    },
    Case {
        name: "build-template-override-not-yaml",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| put(site, "templates/dex/extra.yaml.j2", b"key: [unclosed\n"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB050]",
            "dex/extra.yaml.j2 did not render valid YAML",
            "unclosed bracket",
        ],
        never: &[],
    },
    Case {
        name: "build-template-override-object-without-identity",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| put(site, "templates/dex/extra.yaml.j2", b"data:\n  a: b\n"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB050]", "without apiVersion, kind and metadata.name"],
        never: &[],
    },
    Case {
        name: "build-template-override-duplicate-object",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/again.yaml.j2",
                b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ site.dex.namespace }}\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB051]", "Namespace dex is generated twice"],
        never: &[],
    },
    Case {
        name: "build-template-override-unknown-kind",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/gizmo.yaml.j2",
                b"apiVersion: example.org/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: dex\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB053]",
            "no schema for example.org/v1 Gizmo",
            "allowed_kinds",
        ],
        never: &[],
    },
    Case {
        name: "build-template-override-fails-its-schema",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/cm.yaml.j2",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  namespace: dex\nbogus: true\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB052]", "ConfigMap dex/g", "'bogus' was unexpected"],
        never: &[],
    },
    Case {
        name: "build-truncated-ciphertext",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: cut_ciphertext,
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB042]",
            "instances/physics-hub.toml:18:17",
            "only 28 bytes follow the length prefix",
            "re-seal it",
        ],
        never: &[CUT_CIPHERTEXT],
    },
    Case {
        name: "build-sealing-certificate-missing",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| std::fs::remove_file(site.join("kubeseal-testbed.pem")).expect("rm"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB043]", "cannot read the sealing certificate"],
        never: &[],
    },
    Case {
        name: "build-sealing-certificate-expired",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| copy_cert("expired.crt", &site.join("kubeseal-testbed.pem")),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB043]",
            "certificate expired on 2020-01-02T00:00:00Z",
        ],
        never: &[],
    },
    Case {
        name: "build-sealing-certificate-ec",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| copy_cert("ec-p256.crt", &site.join("kubeseal-testbed.pem")),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB043]", "sealing needs an RSA key"],
        never: &[],
    },
    Case {
        name: "build-sealing-certificate-rsa1024",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| copy_cert("rsa1024.crt", &site.join("kubeseal-testbed.pem")),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB043]", "1024-bit RSA key; at least 2048 bits"],
        never: &[],
    },
    Case {
        name: "build-invalid-site",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML", "site.toml:"],
        never: &[],
    },
    Case {
        name: "build-no-site-folder",
        args: &[
            "build",
            "--schemas",
            "{schemas}",
            "--site",
            "{scratch}/nowhere",
        ],
        on: On::Nothing,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["error[CB140]", "no site folder at", "--site DIR"],
        never: &[],
    },
    Case {
        name: "build-no-site-toml",
        args: &["build", "--schemas", "{schemas}", "--site", "{scratch}"],
        on: On::Nothing,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["error[CB140]", "no site.toml in"],
        never: &[],
    },
    Case {
        name: "build-site-is-another-file",
        args: &["build", "--site", "{scratch}/flatiron.toml"],
        on: On::Nothing,
        edit: |_, scratch| put(scratch, "flatiron.toml", b"[site]\n"),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error[CB140]",
            "flatiron.toml is not a site.toml",
            "--site takes the site folder or its site.toml",
        ],
        never: &[],
    },
    Case {
        name: "build-instance-file-is-a-folder",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| std::fs::create_dir(site.join("instances/folder.toml")).expect("mkdir"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB100]",
            "instances/folder.toml is a folder, not a regular file; it was not read",
        ],
        never: &[],
    },
    Case {
        name: "build-instance-file-dangling-link",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, scratch| {
            std::os::unix::fs::symlink(scratch.join("gone.toml"), site.join("instances/x.toml"))
                .expect("symlink")
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB100]",
            "instances/x.toml is a symbolic link to",
            "gone.toml, outside the site folder",
        ],
        never: &[],
    },
    Case {
        name: "build-out-under-a-file",
        args: &[
            "build",
            "--schemas",
            "{schemas}",
            "--out",
            "{scratch}/a-file/out",
        ],
        on: On::Small,
        edit: |_, scratch| put(scratch, "a-file", b"not a folder"),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["error: cannot write the tree next to", "a-file/out"],
        never: &[],
    },
    Case {
        name: "build-check-out-missing",
        args: &[
            "build",
            "--check",
            "--schemas",
            "{schemas}",
            "--out",
            "{scratch}/out",
        ],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 1,
        says: &["missing  ", "is out of date: run `casa-build build`"],
        never: &[],
    },
    Case {
        name: "build-unknown-format",
        args: &["build", "--format", "yaml"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["invalid value 'yaml' for '--output <FORMAT>'"],
        never: &[],
    },
    // ---- seal ----
    Case {
        name: "seal-certificate-ec",
        args: &["seal", "--cert", "{certs}/ec-p256.crt", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &[
            "certificate key type is EC",
            "sealing needs an RSA key",
            "kubeseal --fetch-cert",
        ],
        never: &[],
    },
    Case {
        name: "seal-certificate-expired",
        args: &["seal", "--cert", "{certs}/expired.crt", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["certificate expired on 2020-01-02T00:00:00Z"],
        never: &[],
    },
    Case {
        name: "seal-certificate-rsa1024",
        args: &["seal", "--cert", "{certs}/rsa1024.crt", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["1024-bit RSA key; at least 2048 bits are required"],
        never: &[],
    },
    Case {
        name: "seal-certificate-not-pem",
        args: &["seal", "--cert", "{scratch}/cert.pem", LOCATION],
        on: On::Small,
        edit: |_, scratch| put(scratch, "cert.pem", b"this is not a certificate\n"),
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["no PEM CERTIFICATE block found"],
        never: &[],
    },
    Case {
        name: "seal-certificate-not-base64",
        args: &["seal", "--cert", "{scratch}/cert.pem", LOCATION],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "cert.pem",
                b"-----BEGIN CERTIFICATE-----\n!!notbase64\n-----END CERTIFICATE-----\n",
            )
        },
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["the CERTIFICATE block is not valid PEM", "not base64"],
        never: &[],
    },
    Case {
        name: "seal-certificate-cut-short",
        args: &["seal", "--cert", "{scratch}/cert.pem", LOCATION],
        on: On::Small,
        edit: |_, scratch| {
            let pem = read(&path("tests/fixtures/certs/rsa2048.crt"));
            let cut = format!("{}\n-----END CERTIFICATE-----\n", &pem[..400]);
            put(scratch, "cert.pem", cut.as_bytes());
        },
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["not valid PEM", "cut short"],
        never: &[],
    },
    Case {
        name: "seal-certificate-der-garbage",
        args: &["seal", "--cert", "{scratch}/cert.pem", LOCATION],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "cert.pem",
                b"-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n",
            )
        },
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["not an X.509 certificate", "kubeseal --fetch-cert"],
        never: &[],
    },
    Case {
        name: "seal-certificate-is-a-folder",
        args: &["seal", "--cert", "{scratch}", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 3,
        says: &["cannot read the certificate", "Is a directory"],
        never: &[],
    },
    Case {
        name: "seal-certificate-missing",
        args: &["seal", "--cert", "{scratch}/none.pem", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 3,
        says: &["cannot read the certificate", "none.pem", "No such file"],
        never: &[],
    },
    Case {
        name: "seal-site-certificate-missing",
        args: &["seal", LOCATION],
        on: On::Small,
        edit: |site, _| std::fs::remove_file(site.join("kubeseal-testbed.pem")).expect("rm"),
        stdin: Some("value"),
        stdin_of: None,
        code: 3,
        says: &["cannot read the certificate", "kubeseal-testbed.pem"],
        never: &[],
    },
    Case {
        name: "seal-unknown-location",
        args: &["seal", "instances/physics-hub.toml#auth.no_such_secret"],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &[
            "is not a secret of this site",
            "the locations are:",
            LOCATION,
        ],
        never: &[],
    },
    Case {
        name: "seal-location-in-a-missing-file",
        args: &["seal", "instances/no-such-hub.toml#auth.client_secret"],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["`instances/no-such-hub.toml#auth.client_secret` is not a secret of this site"],
        never: &[],
    },
    Case {
        name: "seal-location-without-a-field",
        args: &["seal", "instances/physics-hub.toml"],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["is not a secret of this site"],
        never: &[],
    },
    Case {
        name: "seal-unknown-scope",
        args: &["seal", "--scope", "global", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 64,
        says: &["invalid value 'global' for '--scope <SCOPE>'", "strict"],
        never: &[],
    },
    Case {
        name: "seal-invalid-site",
        args: &["seal", LOCATION],
        on: On::Small,
        edit: |site, _| replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1),
        stdin: Some("value"),
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML"],
        never: &[],
    },
    Case {
        name: "seal-no-site-folder",
        args: &["seal", LOCATION, "--site", "{scratch}/nowhere"],
        on: On::Nothing,
        edit: keep,
        stdin: Some("value"),
        stdin_of: None,
        code: 3,
        says: &["error[CB140]", "no site folder at"],
        never: &[],
    },
    // ---- secrets list ----
    Case {
        name: "secrets-list-truncated-ciphertext",
        args: &["secrets", "list"],
        on: On::Small,
        edit: cut_ciphertext,
        stdin: None,
        stdin_of: None,
        code: 0,
        says: &["malformed instances/physics-hub.toml#auth.client_secret"],
        never: &[CUT_CIPHERTEXT],
    },
    Case {
        name: "secrets-list-invalid-toml",
        args: &["secrets", "list"],
        on: On::Small,
        edit: |site, _| replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML", "site.toml:"],
        never: &[],
    },
    Case {
        name: "secrets-list-not-utf8",
        args: &["secrets", "list"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "instances/physics-hub.toml",
                b"[instance]\nname = \"\xff\xfe\"\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB001]",
            "instances/physics-hub.toml is not UTF-8 text",
        ],
        never: &[],
    },
    Case {
        name: "secrets-list-unknown-key",
        args: &["secrets", "list"],
        on: On::Small,
        edit: |site, _| replace(site, "site.toml", "[site]", "[site]\nsecretz = 1"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["secretz"],
        never: &[],
    },
    Case {
        name: "secrets-list-instance-is-a-folder",
        args: &["secrets", "list"],
        on: On::Small,
        edit: |site, _| std::fs::create_dir(site.join("instances/folder.toml")).expect("mkdir"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB100]", "instances/folder.toml is a folder"],
        never: &[],
    },
    Case {
        name: "secrets-list-no-site-folder",
        args: &["secrets", "list", "--site", "{scratch}/nowhere"],
        on: On::Nothing,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["error[CB140]", "no site folder at"],
        never: &[],
    },
    Case {
        name: "secrets-list-unknown-format",
        args: &["secrets", "list", "--format", "yaml"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["invalid value 'yaml' for '--output <FORMAT>'"],
        never: &[],
    },
    // ---- diff --base ----
    Case {
        name: "diff-base-not-a-repository",
        args: &["diff", "--base", "HEAD", "--schemas", "{schemas}"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["is not inside a git repository"],
        never: &[],
    },
    Case {
        name: "diff-base-unknown-revision",
        args: &["diff", "--base", "no-such-branch", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["unknown revision \"no-such-branch\""],
        never: &[],
    },
    Case {
        name: "diff-base-before-the-first-commit",
        args: &["diff", "--base", "HEAD~3", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["unknown revision \"HEAD~3\""],
        never: &[],
    },
    Case {
        name: "diff-head-unknown-revision",
        args: &[
            "diff",
            "--base",
            "HEAD",
            "--head",
            "no-such-tag",
            "--schemas",
            "{schemas}",
        ],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["unknown revision \"no-such-tag\""],
        never: &[],
    },
    Case {
        name: "diff-base-invalid-working-tree",
        args: &["diff", "--base", "HEAD", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: |site, _| replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML"],
        never: &[],
    },
    Case {
        name: "diff-base-schema-location-missing",
        args: &["diff", "--base", "HEAD", "--schemas", "{scratch}/nowhere"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "error: the site at head (working tree) cannot be checked",
            "error[CB141]",
            "/nowhere (from --schemas) does not exist",
        ],
        never: &[],
    },
    Case {
        name: "diff-needs-base-or-live",
        args: &["diff", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["--base <REV>"],
        never: &[],
    },
    Case {
        name: "diff-base-and-live-together",
        args: &["diff", "--base", "HEAD", "--live", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["cannot be used with '--live'"],
        never: &[],
    },
    // ---- diff --live ----
    Case {
        name: "diff-live-kubeconfig-missing",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/no-kubeconfig",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["cannot read kubeconfig", "no-kubeconfig", "No such file"],
        never: &[],
    },
    Case {
        name: "diff-live-kubeconfig-not-yaml",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/kubeconfig",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "kubeconfig",
                b"apiVersion: v1\nkind: Config\nclusters: [\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["cannot parse kubeconfig", "at line 3, column 11"],
        never: &[],
    },
    Case {
        name: "diff-live-kubeconfig-is-a-folder",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["cannot read kubeconfig", "Is a directory"],
        never: &[],
    },
    Case {
        name: "diff-live-kubeconfig-without-context",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/kubeconfig",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "kubeconfig",
                b"apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["sets no current-context: give --context, one of: (none)"],
        never: &[],
    },
    Case {
        name: "diff-live-unknown-context",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/kubeconfig",
            "--context",
            "nope",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: |_, scratch| {
            put(
                scratch,
                "kubeconfig",
                kubeconfig("https://127.0.0.1:1", "lab").as_bytes(),
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "context \"nope\" is not in kubeconfig",
            "its contexts are: lab",
        ],
        never: &[],
    },
    Case {
        name: "diff-live-cluster-does-not-answer",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/kubeconfig",
            "--timeout",
            "1",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        edit: |_, scratch| {
            put(
                scratch,
                "kubeconfig",
                kubeconfig("https://127.0.0.1:1", "lab").as_bytes(),
            )
        },
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["https://127.0.0.1:1"],
        never: &["not-a-real-token"],
    },
    Case {
        name: "diff-live-invalid-site",
        args: &[
            "diff",
            "--live",
            "--kubeconfig",
            "{scratch}/kubeconfig",
            "--schemas",
            "{schemas}",
        ],
        on: On::Small,
        edit: |site, scratch| {
            put(
                scratch,
                "kubeconfig",
                kubeconfig("https://127.0.0.1:1", "lab").as_bytes(),
            );
            replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1);
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML"],
        never: &[],
    },
    // ---- commit, explain, schema ----
    Case {
        name: "commit-not-a-repository",
        args: &["commit", "--schemas", "{schemas}"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["is not inside a git repository"],
        never: &[],
    },
    Case {
        name: "commit-repository-missing",
        args: &[
            "commit",
            "--repo",
            "{scratch}/nowhere",
            "--schemas",
            "{schemas}",
        ],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["nowhere is not inside a git repository"],
        never: &[],
    },
    Case {
        name: "commit-invalid-site",
        args: &["commit", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: |site, _| {
            replace(site, "site.toml", BROKEN_TOML.0, BROKEN_TOML.1);
            stage(site, "site.toml");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB001]", "invalid TOML"],
        never: &[],
    },
    Case {
        name: "unknown-subcommand",
        args: &["biuld"],
        on: On::Nothing,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["unrecognized subcommand 'biuld'"],
        never: &[],
    },
    Case {
        name: "diff-misspelt-flag",
        args: &["diff", "--bse", "main"],
        on: On::Repo,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["unexpected argument '--bse'"],
        never: &[],
    },
    Case {
        name: "explain-unknown-code",
        args: &["explain", "CB999"],
        on: On::Nothing,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 64,
        says: &["no diagnostic code CB999", "the codes are CB001"],
        never: &[],
    },
    Case {
        name: "schema-out-under-a-file",
        args: &["schema", "--out", "{scratch}/a-file/schemas"],
        on: On::Nothing,
        edit: |_, scratch| put(scratch, "a-file", b"not a folder"),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &["cannot create", "a-file/schemas"],
        never: &[],
    },
    // ---- hostile input: what the site reads, where the tree is written ----
    Case {
        name: "build-out-is-the-site-folder",
        args: &["build", "--schemas", "{schemas}", "--out", "{site}"],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB057]",
            "is the site folder or a folder holding it; the output folder is replaced whole, so the site would be deleted",
            "never the site folder, an ancestor of it",
        ],
        never: &[],
    },
    Case {
        name: "build-out-is-an-ancestor-of-the-site",
        args: &["build", "--schemas", "{schemas}", "--out", "{site}/.."],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "is the site folder or a folder holding it"],
        never: &[],
    },
    Case {
        name: "build-out-is-a-git-checkout",
        args: &[
            "build",
            "--schemas",
            "{schemas}",
            "--out",
            "{scratch}/checkout",
        ],
        on: On::Small,
        edit: |_, scratch| {
            put(scratch, "checkout/README.md", b"someone's repository\n");
            git2::Repository::init(scratch.join("checkout")).expect("git init");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB057]",
            "holds files casa-build did not write (.git/",
            "so they would be deleted",
        ],
        never: &[],
    },
    Case {
        name: "build-out-inside-dot-git",
        args: &[
            "build",
            "--schemas",
            "{schemas}",
            "--out",
            "{scratch}/.git/objects/out",
        ],
        on: On::Small,
        edit: |_, scratch| {
            git2::Repository::init(scratch).expect("git init");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "is inside a git repository's .git folder"],
        never: &[],
    },
    Case {
        name: "build-out-is-a-symbolic-link",
        args: &["build", "--schemas", "{schemas}", "--out", "{scratch}/out"],
        on: On::Small,
        edit: |_, scratch| {
            put(scratch, "elsewhere/keep.txt", b"kept\n");
            std::os::unix::fs::symlink(scratch.join("elsewhere"), scratch.join("out"))
                .expect("symlink");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "is a symbolic link (to ", "elsewhere)"],
        never: &[],
    },
    Case {
        name: "build-out-is-a-file",
        args: &["build", "--schemas", "{schemas}", "--out", "{scratch}/out"],
        on: On::Small,
        edit: |_, scratch| put(scratch, "out", b"not a folder\n"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "/out is not a folder"],
        never: &[],
    },
    Case {
        name: "build-out-holds-other-files",
        args: &["build", "--schemas", "{schemas}", "--out", "{scratch}/docs"],
        on: On::Small,
        edit: |_, scratch| put(scratch, "docs/notes.txt", b"mine\n"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB057]",
            "holds files casa-build did not write (notes.txt)",
        ],
        never: &[],
    },
    Case {
        name: "build-default-out-is-a-file",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| put(site, "out", b"a file where the tree goes\n"),
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "/out is not a folder"],
        never: &[],
    },
    Case {
        name: "build-default-out-is-a-symbolic-link",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, scratch| {
            put(scratch, "stale-tree/dex/namespace-dex.yaml", b"old\n");
            std::os::unix::fs::symlink(scratch.join("stale-tree"), site.join("out"))
                .expect("symlink");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB057]",
            "/out is a symbolic link (to ",
            "its target keep a stale tree",
        ],
        never: &[],
    },
    Case {
        name: "build-check-out-is-a-symbolic-link",
        args: &[
            "build",
            "--check",
            "--schemas",
            "{schemas}",
            "--out",
            "{scratch}/out",
        ],
        on: On::Small,
        edit: |_, scratch| {
            std::os::unix::fs::symlink("/", scratch.join("out")).expect("symlink");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "is a symbolic link (to /)"],
        never: &[],
    },
    Case {
        name: "build-template-object-named-out-of-its-folder",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/escape.yaml.j2",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: /../../../escaped\n  namespace: dex\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB055]",
            "ConfigMap dex//../../../escaped (from dex/escape.yaml.j2) cannot be written to out/",
        ],
        never: &[],
    },
    Case {
        name: "build-template-objects-on-one-file",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            put(
                site,
                "templates/dex/twice.yaml.j2",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: dex\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: traefik\n",
            )
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB056]",
            "ConfigMap dex/settings (from dex/twice.yaml.j2) and ConfigMap traefik/settings (from dex/twice.yaml.j2) would both be out/dex/configmap-settings.yaml",
        ],
        never: &[],
    },
    Case {
        name: "build-instance-is-a-fifo",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            let ok = std::process::Command::new("mkfifo")
                .arg(site.join("instances/pipe.toml"))
                .status()
                .expect("mkfifo");
            assert!(ok.success());
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB100]",
            "instances/pipe.toml is a FIFO, not a regular file",
        ],
        never: &[],
    },
    Case {
        name: "build-instance-links-to-dev-zero",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            std::os::unix::fs::symlink("/dev/zero", site.join("instances/zero.toml"))
                .expect("symlink")
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB100]",
            "is a symbolic link to /dev/zero, outside the site folder",
        ],
        never: &[],
    },
    Case {
        name: "build-template-links-to-a-credentials-file",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, scratch| {
            put(
                scratch,
                "credentials",
                b"aws_secret_access_key = planted-template-secret\n",
            );
            std::fs::create_dir_all(site.join("templates/dex")).expect("mkdir");
            std::os::unix::fs::symlink(
                scratch.join("credentials"),
                site.join("templates/dex/namespace.yaml.j2"),
            )
            .expect("symlink")
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB100]",
            "templates/dex/namespace.yaml.j2 is a symbolic link to",
            "outside the site folder",
        ],
        never: &["planted-template-secret"],
    },
    Case {
        name: "build-instance-larger-than-the-cap",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            let mut text = b"# padding\n".repeat(419_431);
            text.truncate(4 * 1024 * 1024 + 1);
            put(site, "instances/huge.toml", &text);
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB101]",
            "instances/huge.toml is 4194305 bytes; a site file may have at most 4194304",
        ],
        never: &[],
    },
    Case {
        name: "build-too-many-instances",
        args: &["build", "--schemas", "{schemas}"],
        on: On::Small,
        edit: |site, _| {
            for i in 0..1_001 {
                put(site, &format!("instances/i-{i:04}.toml"), b"");
            }
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "error[CB101]",
            "instances holds more than 1000 instance files",
        ],
        never: &[],
    },
    Case {
        name: "seal-value-over-one-mebibyte",
        args: &["seal", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: None,
        stdin_of: Some(|| vec![b'x'; 1024 * 1024 + 1]),
        code: 2,
        says: &["error: the value has more than 1048576 bytes, the most a Secret holds"],
        never: &[],
    },
    Case {
        name: "seal-empty-value",
        args: &["seal", LOCATION],
        on: On::Small,
        edit: keep,
        stdin: Some(""),
        stdin_of: None,
        code: 2,
        says: &["error: the value is empty"],
        never: &[],
    },
    Case {
        name: "diff-base-with-a-link-to-proc",
        args: &["diff", "--base", "HEAD", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: |site, _| {
            std::os::unix::fs::symlink("/proc/self/environ", site.join("instances/env.toml"))
                .expect("symlink");
            commit_all_again(site);
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &[
            "the site at base (HEAD",
            "error[CB100]: instances/env.toml is a symbolic link to /proc/self/environ, outside the site folder",
        ],
        never: &[],
    },
    Case {
        name: "commit-out-is-a-symbolic-link",
        args: &["commit", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: |site, scratch| {
            std::fs::create_dir_all(scratch.join("elsewhere")).expect("mkdir");
            std::os::unix::fs::symlink(scratch.join("elsewhere"), site.join("out"))
                .expect("symlink");
        },
        stdin: None,
        stdin_of: None,
        code: 2,
        says: &["error[CB057]", "out is a symbolic link"],
        never: &[],
    },
    Case {
        name: "commit-stale-index-lock",
        args: &["commit", "--schemas", "{schemas}"],
        on: On::Repo,
        edit: |site, _| put(site, ".git/index.lock", b""),
        stdin: None,
        stdin_of: None,
        code: 3,
        says: &[
            "refusing to commit: ",
            ".git/index.lock exists: another git process is working in this repository, or one was killed",
        ],
        never: &[],
    },
];

fn copy_cert(name: &str, to: &Path) {
    std::fs::copy(path("tests/fixtures/certs").join(name), to).expect("copy a test certificate");
}

/// Stages a file of the repository at `dir`, as `git add` does.
#[track_caller]
fn stage(dir: &Path, rel: &str) {
    let repo = git2::Repository::open(dir).expect("a repository");
    let mut index = repo.index().expect("index");
    index.add_path(Path::new(rel)).expect("git add");
    index.write().expect("write the index");
}

/// Commits every change of the work tree at `dir` (links included) on top of HEAD.
#[track_caller]
fn commit_all_again(dir: &Path) {
    let repo = git2::Repository::open(dir).expect("a repository");
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("git add");
    index.write().expect("write the index");
    let tree = repo
        .find_tree(index.write_tree().expect("write the tree"))
        .expect("the tree");
    let who = git2::Signature::now("Corpus Tests", "corpus@example.org").expect("signature");
    let parent = repo
        .head()
        .expect("HEAD")
        .peel_to_commit()
        .expect("a commit");
    repo.commit(Some("HEAD"), &who, &who, "more", &tree, &[&parent])
        .expect("commit");
}

/// Commits every file of `dir` as the first commit of a new repository there.
fn commit_all(dir: &Path) {
    let repo = git2::Repository::init(dir).expect("git init");
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("git add");
    index.write().expect("write the index");
    let tree = repo
        .find_tree(index.write_tree().expect("write the tree"))
        .expect("the tree");
    // A fixed identity: CI runners have none.
    let who = git2::Signature::now("Corpus Tests", "corpus@example.org").expect("signature");
    repo.commit(Some("HEAD"), &who, &who, "the site", &tree, &[])
        .expect("commit");
}

fn expand(arg: &str, scratch: &Path, site: Option<&Path>) -> String {
    let site = site.map_or_else(String::new, |s| s.display().to_string());
    arg.replace("{site}", &site)
        .replace(
            "{schemas}",
            &path("../shared/schemas").display().to_string(),
        )
        .replace(
            "{certs}",
            &path("tests/fixtures/certs").display().to_string(),
        )
        .replace("{scratch}", &scratch.display().to_string())
}

fn run_case(case: &Case) {
    let scratch = tempdir();
    let mut cli = Cli::new();
    if case.on != On::Nothing {
        cli = cli.site(SMALL_SITE);
        let dir = cli.site_dir().to_path_buf();
        if case.on == On::Repo {
            commit_all(&dir);
        }
        (case.edit)(&dir, scratch.path());
        // A failing run writes nothing: no out/, no half-sealed value, no repository change.
        if case.code != 0 && case.code != 1 {
            cli = cli.site_unchanged();
        }
    } else {
        (case.edit)(scratch.path(), scratch.path());
    }
    let site = (case.on != On::Nothing).then(|| cli.site_dir().to_path_buf());
    for a in case.args {
        cli = cli.arg(expand(a, scratch.path(), site.as_deref()));
    }
    if let Some(input) = case.stdin {
        cli = cli.stdin(input);
    }
    if let Some(make) = case.stdin_of {
        cli = cli.stdin(make());
    }
    for n in case.never {
        cli = cli.never_prints(*n);
    }
    let run = cli.code(case.code).run();
    let shown = format!("{}{}", run.stderr, run.stdout);
    for s in case.says {
        assert!(
            shown.contains(s),
            "{}: the message lacks {s:?}:\n{shown}",
            case.name
        );
    }
    if case.code >= 2 {
        assert!(
            run.stderr.starts_with("error"),
            "{}: exit {} without an error message first:\n{}",
            case.name,
            case.code,
            run.stderr
        );
    }
}

#[test]
fn every_case_exits_with_its_code_and_says_why() {
    let mut failed = Vec::new();
    for case in CASES {
        if catch_unwind(AssertUnwindSafe(|| run_case(case))).is_err() {
            failed.push(case.name);
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed (details above): {}",
        failed.len(),
        CASES.len(),
        failed.join(", ")
    );
}

#[test]
fn the_corpus_covers_every_command() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two cases share a name");
    for (prefix, at_least) in [
        ("build-", 15),
        ("seal-", 10),
        ("secrets-list-", 5),
        ("diff-base-", 4),
        ("diff-live-", 5),
        ("commit-", 2),
    ] {
        let n = CASES.iter().filter(|c| c.name.starts_with(prefix)).count();
        assert!(n >= at_least, "only {n} `{prefix}` cases");
    }
    // The environment's codes (exit 3) have cases here, not in tests/bad-input/.
    for info in casa_build::diagnostics::CODES
        .iter()
        .filter(|c| c.code.is_environment())
    {
        let shown = format!("error[{}]", info.code);
        assert!(
            CASES
                .iter()
                .any(|c| c.code == 3 && c.says.contains(&shown.as_str())),
            "no corpus case says {shown}"
        );
    }
    // With the `check` corpus in tests/bad-input/, every command has bad-input cases.
    let check_cases = std::fs::read_dir(path("tests/bad-input"))
        .expect("tests/bad-input")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    assert!(CASES.len() + check_cases >= 60);
}
