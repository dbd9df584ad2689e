//! `casa-build secrets list` (its JSON contract) and `casa-build seal`: the value lands in
//! place with every other byte of the file kept, opens with the fixture private key to the
//! plaintext, bad certificates and unknown locations are refused, and the plaintext is never
//! printed. The reference and example sites hold demo values, checked here too.

use casa_build::seal::{RsaPrivateKey, Scope, private_key_from_pem, unseal};

use crate::support::{Cli, SMALL_SITE, path, read};

/// Private key of examples/small-site/kubeseal-testbed.pem (TEST ONLY).
const SMALL_KEY: &str = "tests/fixtures/small-site-sealing/tls.key";
/// Private key of the reference site's kubeseal-flatiron.pem (TEST ONLY).
const REFERENCE_KEY: &str = "tests/fixtures/demo-sealing/tls.key";

const HUB_SECRET: &str = "instances/physics-hub.toml#auth.client_secret";
const PLAINTEXT: &str = "s3cret-v4lue-that-must-not-leak";

#[track_caller]
fn fixture_key(rel: &str) -> RsaPrivateKey {
    private_key_from_pem(&read(&path(rel))).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The sealed value at a `secrets list` location: `file#dotted.path` (array entries by
/// index), read from the site folder `dir`.
#[track_caller]
fn sealed_at(dir: &std::path::Path, location: &str) -> toml::Table {
    let (file, dotted) = location.split_once('#').expect("file#path");
    let doc: toml::Table = read(&dir.join(file))
        .parse()
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut value = toml::Value::Table(doc);
    for segment in dotted.split('.') {
        value = match segment.parse::<usize>() {
            Ok(i) => value.as_array().and_then(|a| a.get(i)).cloned(),
            Err(_) => value.get(segment).cloned(),
        }
        .unwrap_or_else(|| panic!("no {location} (at `{segment}`)"));
    }
    match value {
        toml::Value::Table(t) => t,
        other => panic!("{location} is not a sealed table: {other:?}"),
    }
}

/// Opens the strict-scope value at `location` with `key`.
#[track_caller]
fn open(dir: &std::path::Path, location: &str, key: &RsaPrivateKey) -> String {
    let t = sealed_at(dir, location);
    let s = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    assert!(t.get("scope").is_none(), "{location} is not strict");
    let label = Scope::Strict.label(&s("namespace"), &s("name"));
    let bytes = unseal(key, &label, &s("sealed"))
        .unwrap_or_else(|e| panic!("{location} does not open: {e}"));
    String::from_utf8(bytes).expect("UTF-8 plaintext")
}

/// `secrets list --format json`, and the run (which keeps the site copy alive).
#[track_caller]
fn secrets(cli: Cli) -> (Vec<serde_json::Value>, crate::support::Run) {
    let run = cli
        .args(["secrets", "list", "--format", "json"])
        .site_unchanged()
        .code(0)
        .run();
    let secrets = run.json()["secrets"]
        .as_array()
        .expect("a JSON array of secrets")
        .clone();
    (secrets, run)
}

#[test]
fn secrets_list_json_contract() {
    let (items, _) = secrets(Cli::new().reference_site());
    // 2 BGP passwords, 2 RGW keys, 2 connectors, 4 hub clients, 2 Triton keys; per hub the
    // OAuth secret and XCache token, and the HTCondor pool key for all 4: the 3 that scale
    // out to the Tier-2 and CMS-Dev, which runs its own pool.
    assert_eq!(items.len(), 24, "{items:#?}");
    for item in &items {
        for key in [
            "location",
            "file",
            "namespace",
            "name",
            "key",
            "scope",
            "status",
        ] {
            assert!(item[key].is_string(), "no string `{key}` in {item}");
        }
        let location = item["location"].as_str().unwrap_or("");
        assert!(
            location.starts_with(&format!("{}#", item["file"].as_str().unwrap_or(""))),
            "{item}"
        );
        assert_eq!(item["status"], "sealed", "{item}");
        assert_eq!(item["scope"], "strict", "{item}");
    }
    let hub = items
        .iter()
        .find(|i| i["location"] == "instances/cms-prod.toml#auth.client_secret")
        .expect("the CMS-Prod hub's secret");
    assert_eq!(
        (&hub["file"], &hub["namespace"], &hub["name"], &hub["key"]),
        (
            &"instances/cms-prod.toml".into(),
            &"cmsaf-prod".into(),
            &"hub-oauth".into(),
            &"OAUTH_CLIENT_SECRET".into()
        )
    );

    let (small, _) = secrets(Cli::new().site(SMALL_SITE));
    let locations: Vec<_> = small.iter().map(|i| i["location"].clone()).collect();
    assert_eq!(
        locations,
        [
            "site.toml#dex.connector.0.client_secret",
            "site.toml#dex.static_client.1.secret",
            HUB_SECRET,
        ]
    );
    assert!(small.iter().all(|i| i["status"] == "sealed"), "{small:#?}");
}

#[test]
fn secrets_list_reports_a_missing_secret() {
    let cli = Cli::new().site(SMALL_SITE);
    let file = cli.site_dir().join("instances/physics-hub.toml");
    let text = read(&file);
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("client_secret = "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, kept).expect("edit the copy");
    let (items, _) = secrets(cli);
    let hub = items
        .iter()
        .find(|i| i["location"] == HUB_SECRET)
        .expect("the hub's secret is still listed");
    assert_eq!(hub["status"], "missing");
}

#[test]
fn demo_values_open_with_the_fixture_keys() {
    // Reference site: "demo-<namespace>-<name>-<key>"; Triton's S3 keys are those of the RGW
    // user `triton` (see tests/fixtures/demo-sealing/seal-reference-site.sh).
    let (items, run) = secrets(Cli::new().reference_site());
    let key = fixture_key(REFERENCE_KEY);
    for item in items {
        let s = |k: &str| item[k].as_str().unwrap_or("").to_owned();
        let (mut ns, mut name, mut k) = (s("namespace"), s("name"), s("key"));
        if (ns.as_str(), name.as_str()) == ("triton", "triton-s3") {
            k = if k == "AWS_ACCESS_KEY_ID" {
                "access-key"
            } else {
                "secret-key"
            }
            .to_owned();
            ns = "rook-ceph".to_owned();
            name = "rgw-user-triton".to_owned();
        }
        assert_eq!(
            open(run.site_dir(), &s("location"), &key),
            format!("demo-{ns}-{name}-{k}")
        );
    }

    let (items, run) = secrets(Cli::new().site(SMALL_SITE));
    let key = fixture_key(SMALL_KEY);
    for item in items {
        let s = |k: &str| item[k].as_str().unwrap_or("").to_owned();
        assert_eq!(
            open(run.site_dir(), &s("location"), &key),
            format!("demo-{}-{}-{}", s("namespace"), s("name"), s("key"))
        );
    }
}

/// Seals PLAINTEXT at `location` in a copy of the small site; returns the file before and
/// after, and the run.
#[track_caller]
fn seal_small(location: &str) -> (String, String, crate::support::Run) {
    let file = location.split_once('#').expect("file#path").0.to_owned();
    let cli = Cli::new().site(SMALL_SITE);
    let before = read(&cli.site_dir().join(&file));
    let run = cli
        .args(["seal", location])
        .stdin(PLAINTEXT)
        .code(0)
        .never_prints(PLAINTEXT)
        .stderr_has(format!("sealed {location}"))
        .run();
    let after = run.read(&file);
    (before, after, run)
}

#[track_caller]
fn assert_one_line_changed(before: &str, after: &str, changed_prefix: &str) {
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "line count changed");
    let diff: Vec<usize> = (0..b.len()).filter(|&i| b[i] != a[i]).collect();
    assert_eq!(diff.len(), 1, "lines {diff:?} changed");
    assert!(a[diff[0]].starts_with(changed_prefix), "{}", a[diff[0]]);
    assert_eq!(
        before.ends_with('\n'),
        after.ends_with('\n'),
        "final newline"
    );
}

#[test]
fn seal_replaces_the_value_in_place_and_it_opens_to_the_plaintext() {
    let (before, after, run) = seal_small(HUB_SECRET);
    assert_one_line_changed(&before, &after, "client_secret = { sealed = \"");
    assert_eq!(
        open(run.site_dir(), HUB_SECRET, &fixture_key(SMALL_KEY)),
        PLAINTEXT
    );
    let t = sealed_at(run.site_dir(), HUB_SECRET);
    assert_eq!(t["namespace"].as_str(), Some("physics-hub"));
    assert_eq!(t["name"].as_str(), Some("hub-oauth"));
    assert_eq!(t["key"].as_str(), Some("OAUTH_CLIENT_SECRET"));
    assert!(!after.contains(PLAINTEXT));
}

#[test]
fn seal_writes_into_an_array_of_tables_in_site_toml() {
    let location = "site.toml#dex.static_client.1.secret";
    let (before, after, run) = seal_small(location);
    assert_one_line_changed(&before, &after, "secret = { sealed = \"");
    assert_eq!(
        open(run.site_dir(), location, &fixture_key(SMALL_KEY)),
        PLAINTEXT
    );
}

#[test]
fn sealed_site_still_checks() {
    let (_, _, run) = seal_small(HUB_SECRET);
    Cli::new()
        .arg("check")
        .site(run.site_dir())
        .code(0)
        .stdout_has("valid")
        .run();
}

#[test]
fn seal_adds_a_missing_value_and_keeps_the_rest() {
    let cli = Cli::new().site(SMALL_SITE);
    let file = cli.site_dir().join("instances/physics-hub.toml");
    let without: String = read(&file)
        .lines()
        .filter(|l| !l.starts_with("client_secret = "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, &without).expect("edit the copy");
    let run = cli
        .args(["seal", HUB_SECRET])
        .stdin(PLAINTEXT)
        .code(0)
        .never_prints(PLAINTEXT)
        .run();
    let after = run.read("instances/physics-hub.toml");
    let added: Vec<&str> = after
        .lines()
        .filter(|l| l.starts_with("client_secret = "))
        .collect();
    assert_eq!(added.len(), 1, "{after}");
    let rest: String = after
        .lines()
        .filter(|l| !l.starts_with("client_secret = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(rest, without, "only the sealed line may be new");
    assert_eq!(
        open(run.site_dir(), HUB_SECRET, &fixture_key(SMALL_KEY)),
        PLAINTEXT
    );
}

#[test]
fn seal_refuses_unusable_certificates() {
    for (cert, why) in [
        ("expired.crt", "certificate expired on 2020-01-02T00:00:00Z"),
        ("rsa1024.crt", "1024-bit RSA key; at least"),
        ("ec-p256.crt", "key type is EC"),
    ] {
        let cert_path = path("tests/fixtures/certs").join(cert);
        Cli::new()
            .args(["seal", "--cert"])
            .arg(&cert_path)
            .arg(HUB_SECRET)
            .site(SMALL_SITE)
            .site_unchanged()
            .stdin(PLAINTEXT)
            .code(2)
            .stdout("")
            .stderr_has(format!("error: {}: ", cert_path.display()))
            .stderr_has(why)
            .stderr_has("kubeseal --fetch-cert")
            .never_prints(PLAINTEXT)
            .run();
    }
}

#[test]
fn seal_refuses_an_unknown_location_and_lists_the_valid_ones() {
    Cli::new()
        .args(["seal", "instances/physics-hub.toml#auth.password"])
        .site(SMALL_SITE)
        .site_unchanged()
        .stdin(PLAINTEXT)
        .code(2)
        .stdout("")
        .stderr_has("`instances/physics-hub.toml#auth.password` is not a secret of this site")
        .stderr_has("site.toml#dex.connector.0.client_secret")
        .stderr_has("site.toml#dex.static_client.1.secret")
        .stderr_has(HUB_SECRET)
        .never_prints(PLAINTEXT)
        .run();
}

#[test]
fn a_trailing_newline_is_sealed_with_a_warning_and_the_largest_value_fits() {
    let cli = Cli::new().site(SMALL_SITE);
    let run = cli
        .args(["seal", HUB_SECRET])
        .stdin(format!("{PLAINTEXT}\n"))
        .code(0)
        .never_prints(PLAINTEXT)
        .stderr_has("warning: the value ends with a newline, which is sealed with it")
        .stderr_has("printf %s")
        .run();
    assert_eq!(
        open(run.site_dir(), HUB_SECRET, &fixture_key(SMALL_KEY)),
        format!("{PLAINTEXT}\n")
    );
    // Exactly 1 MiB is what a Secret holds: sealed, and the site still checks.
    let cli = Cli::new().site(SMALL_SITE);
    let run = cli
        .args(["seal", HUB_SECRET])
        .stdin(vec![b'x'; 1024 * 1024])
        .code(0)
        .run();
    Cli::new()
        .arg("check")
        .arg("--site")
        .arg(run.site_dir())
        .code(0)
        .run();
}
