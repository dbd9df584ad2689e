//! `casa-build secrets list` and `casa-build seal`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;

use super::{Format, Outcome, print_diagnostics};
use crate::diagnostics::Diagnostics;
use crate::seal::edit::{SealedEntry, write_sealed};
use crate::seal::{Scope, SealingCert};
use crate::site::{Site, secret_slots};
use crate::sources::Sources;

/// Loads the site for the secret commands: validation findings do not matter here (a site
/// with missing secrets is exactly what `seal` is for), only that it loads.
fn load(dir: &Path) -> anyhow::Result<Result<(Sources, Site), (Sources, Diagnostics)>> {
    let sources = Sources::from_dir(dir)?;
    let (site, mut diags) = crate::site::load(&sources);
    diags.sort(&sources);
    Ok(match site {
        Some(site) if !diags.has_errors() => Ok((sources, site)),
        _ => Err((sources, diags)),
    })
}

pub(crate) fn list(dir: &Path, format: Format) -> anyhow::Result<Outcome> {
    let (sources, site) = match load(dir)? {
        Ok(v) => v,
        Err((sources, diags)) => {
            print_diagnostics(&diags, &sources, format)?;
            return Ok(Outcome::Invalid);
        }
    };
    let slots = secret_slots(&site);
    let mut out = super::stdout();
    match format {
        Format::Json => {
            let items: Vec<_> = slots
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "location": s.location,
                        "file": s.file_path,
                        "namespace": s.namespace,
                        "name": s.name,
                        "key": s.key,
                        "scope": s.scope.as_str(),
                        "status": s.status(),
                        "component": s.component,
                        "instance": s.instance,
                    })
                })
                .collect();
            drop(out);
            super::print_json(
                &crate::diagnostics::Diagnostics::new(),
                &sources,
                serde_json::json!({ "secrets": items }),
            )?;
            return Ok(Outcome::Ok);
        }
        Format::Text => {
            let w = slots.iter().map(|s| s.location.len()).max().unwrap_or(0);
            for s in &slots {
                let status = serde_json::to_value(s.status())?;
                writeln!(
                    out,
                    "{:<8} {:<w$}  {}/{} [{}] ({})",
                    status.as_str().unwrap_or(""),
                    s.location,
                    s.namespace,
                    s.name,
                    s.key,
                    s.scope
                )?;
            }
        }
    }
    drop(out);
    let _ = sources;
    Ok(Outcome::Ok)
}

pub(crate) fn seal(
    dir: &Path,
    cert: Option<&Path>,
    scope: Option<&str>,
    location: &str,
) -> anyhow::Result<Outcome> {
    let (sources, site) = match load(dir)? {
        Ok(v) => v,
        Err((sources, diags)) => {
            print_diagnostics(&diags, &sources, Format::Text)?;
            return Ok(Outcome::Invalid);
        }
    };
    let slots = secret_slots(&site);
    let Some(slot) = slots.iter().find(|s| s.location == location) else {
        let mut err = super::stderr();
        writeln!(
            err,
            "error: `{}` is not a secret of this site",
            crate::redact::escape_controls(location)
        )?;
        writeln!(err, "  = help: the locations are:")?;
        for s in &slots {
            writeln!(err, "      {}", s.location)?;
        }
        return Ok(Outcome::Invalid);
    };
    let (cert_path, pem) = match cert {
        Some(p) => (
            p.to_path_buf(),
            std::fs::read(p)
                .with_context(|| format!("cannot read the certificate {}", p.display()))?,
        ),
        // The site's own certificate is a site file: read under the same rules.
        None => {
            let rel = site.spec.sealing.cert.get_ref().as_str();
            match crate::sources::read_site_file(dir, rel).with_context(|| {
                format!("cannot read the certificate {}", dir.join(rel).display())
            })? {
                crate::sources::Read::Bytes(b) => (dir.join(rel), b),
                crate::sources::Read::Refused(r) => {
                    writeln!(
                        super::stderr(),
                        "error: the sealing certificate {rel} {r}\n  = help: {}",
                        crate::diagnostics::SITE_FILE_REFUSED.info().fix
                    )?;
                    return Ok(Outcome::Invalid);
                }
            }
        }
    };
    let cert = match SealingCert::from_pem(&String::from_utf8_lossy(&pem))
        .and_then(|c| c.check(SystemTime::now()).map(|w| (c, w)))
    {
        Ok((c, warning)) => {
            if let Some(w) = warning {
                writeln!(super::stderr(), "warning: {}: {w}", cert_path.display())?;
            }
            c
        }
        Err(e) => {
            writeln!(
                super::stderr(),
                "error: {}: {e}\n  = help: fetch the controller's current certificate with `kubeseal --fetch-cert > {}`",
                cert_path.display(),
                cert_path.display()
            )?;
            return Ok(Outcome::Invalid);
        }
    };
    let scope: Scope = match scope {
        Some(s) => s.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
        None => slot.value.map_or(Scope::Strict, |v| v.get_ref().scope),
    };
    let plaintext = read_secret(location)?;
    // The other values of the same Secret count against its 1 MiB too.
    let others: usize = slots
        .iter()
        .filter(|s| s.namespace == slot.namespace && s.name == slot.name && s.key != slot.key)
        .filter_map(|s| s.value)
        .filter_map(|v| crate::site::types::parse_sealed(&v.get_ref().sealed).ok())
        .map(|b| b.plaintext_len())
        .sum();
    let secret = format!("{}/{}", slot.namespace, slot.name);
    match crate::seal::check_value(&plaintext, &secret, others) {
        Ok(Some(warning)) => writeln!(super::stderr(), "warning: {warning}")?,
        Ok(None) => {}
        Err(e) => {
            writeln!(super::stderr(), "error: {e}")?;
            return Ok(Outcome::Invalid);
        }
    }
    let label = scope.label(&slot.namespace, &slot.name);
    let sealed = crate::seal::seal_with_os_rng(cert.public_key(), &label, &plaintext)?;
    let entry = SealedEntry {
        sealed: &sealed,
        scope,
        namespace: &slot.namespace,
        name: &slot.name,
        key: &slot.key,
    };
    let file = sources
        .get(slot.file)
        .context("the secret's file is gone")?;
    let text = write_sealed(&file.text, &slot.path, &entry)?;
    write_atomic(&dir.join(&slot.file_path), text.as_bytes())?;
    writeln!(
        super::stderr(),
        "sealed {location} for {}/{} key {} ({scope})",
        slot.namespace,
        slot.name,
        slot.key
    )?;
    Ok(Outcome::Ok)
}

/// The plaintext: typed without echo on a terminal, else standard input byte for byte
/// (as `kubeseal --raw` reads it; pipe with `printf %s` to avoid a trailing newline).
fn read_secret(location: &str) -> anyhow::Result<Vec<u8>> {
    if std::io::stdin().is_terminal() {
        let v = rpassword::prompt_password(format!("value for {location} (not echoed): "))?;
        return Ok(v.into_bytes());
    }
    // One byte past the largest value a Secret holds is enough to refuse it: a value piped
    // from `/dev/zero` is not read without end.
    let mut buf = Vec::new();
    std::io::stdin()
        .take(crate::validate::MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .context("cannot read the value from standard input")?;
    Ok(buf)
}

/// Replaces a file by a renamed temporary in the same folder, so a crash leaves the old file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    // The temporary file is created 0600; the site file keeps the mode it had.
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
