//! Where the cluster is and who we are to it, found as kubectl finds it (client-go's
//! `ClientConfigLoadingRules`, k8s.io/client-go@v0.33 tools/clientcmd/loader.go):
//!
//! - `--kubeconfig FILE`: that file, which must exist;
//! - else `KUBECONFIG`, a list of files (`:`-separated, `;` on Windows): files that do not
//!   exist are skipped, the others merged with the first file to set a value winning
//!   (per map key: a context, cluster or user defined twice is the first one, whole);
//! - else `~/.kube/config`, else the pod's service account.
//!
//! and then kubectl's habits where kube-rs differs: a token file is read once and trimmed
//! (client-go `transport.NewCachedFileTokenSource` uses `strings.TrimSpace`); an exec plugin
//! runs once, bounded by the run's deadline, its standard error passed through and its
//! standard output never shown; user-info in the server URL (`https://user:pass@host`) is basic
//! auth, as Go's net/http sends it, and never part of the URL we print. Every credential
//! met on the way goes into the run's [`Redactor`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use kube::config::{
    AuthInfo, ExecAuthCluster, ExecConfig, ExecInteractiveMode, KubeConfigOptions, Kubeconfig,
    KubeconfigError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::error::Error;
use super::timeout::Timeout;
use crate::redact::Redactor;

/// An exec plugin's answer larger than this is not a credential.
const EXEC_OUTPUT_CAP: usize = 1 << 20;

/// A configuration ready for a client.
pub struct Loaded {
    pub config: kube::Config,
}

/// Finds and loads the configuration, filling `redactor` as credentials are met (so that an
/// error after the first one is read is still printed without it).
pub async fn load(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    deadline: Instant,
    timeout: Duration,
    redactor: &mut Redactor,
) -> Result<Loaded, Error> {
    let files = match kubeconfig {
        Some(path) => Files::Explicit(path.to_path_buf()),
        None => match std::env::var_os("KUBECONFIG") {
            Some(list) => {
                let paths: Vec<PathBuf> = std::env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect();
                if paths.is_empty() {
                    Files::Default
                } else {
                    Files::List(list.to_string_lossy().into_owned(), paths)
                }
            }
            None => Files::Default,
        },
    };
    let (origin, found) = match &files {
        Files::Explicit(path) => (
            format!("kubeconfig {}", path.display()),
            vec![read(path, redactor)?],
        ),
        Files::List(text, paths) => {
            let mut found = Vec::new();
            for path in paths {
                // client-go skips a listed file that does not exist (loader.go `Load`:
                // `os.IsNotExist` -> missingList); any other failure to read is an error.
                if std::fs::symlink_metadata(path)
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
                {
                    continue;
                }
                found.push(read(path, redactor)?);
            }
            (format!("KUBECONFIG {text}"), found)
        }
        Files::Default => match default_path() {
            Some(path) if path.exists() => (
                format!("kubeconfig {}", path.display()),
                vec![read(&path, redactor)?],
            ),
            _ => (String::new(), Vec::new()),
        },
    };

    if found.is_empty() {
        let looked = match &files {
            Files::List(text, _) => format!("none of the files in KUBECONFIG={text} exists"),
            _ => match default_path() {
                Some(p) => format!("no {} and no KUBECONFIG", p.display()),
                None => "no KUBECONFIG and no home folder".to_owned(),
            },
        };
        if let Some(context) = context {
            return Err(Error::ContextWithoutKubeconfig {
                context: context.to_owned(),
                looked,
            });
        }
        if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
            return Err(Error::NoConfig { looked });
        }
        let mut config = kube::Config::incluster().map_err(Error::InCluster)?;
        read_token_file(
            &mut config.auth_info,
            "the in-cluster service account",
            redactor,
        )?;
        return Ok(Loaded { config });
    }

    let names: Vec<String> = found.iter().map(|(p, _)| p.display().to_string()).collect();
    let mut merged = Kubeconfig::default();
    for (_, file) in found {
        merged = merged
            .merge(file)
            .map_err(|source| Error::MergeKubeconfig {
                files: names.join(", "),
                source,
            })?;
    }
    for user in &merged.auth_infos {
        if let Some(info) = &user.auth_info {
            remember(info, redactor);
        }
    }
    for cluster in merged.clusters.iter().filter_map(|c| c.cluster.as_ref()) {
        if let Some((user, password)) = cluster.server.as_deref().and_then(userinfo) {
            redactor.add(&user);
            redactor.add(&password.unwrap_or_default());
        }
    }

    let contexts = || {
        let names: BTreeSet<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.into_iter().collect::<Vec<_>>().join(", ")
        }
    };
    let name = match context
        .map(str::to_owned)
        .or_else(|| merged.current_context.clone())
    {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(Error::NoCurrentContext {
                source_: origin,
                contexts: contexts(),
            });
        }
    };
    let Some(ctx) = merged
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.clone())
    else {
        return Err(Error::UnknownContext {
            context: name,
            source_: origin,
            contexts: contexts(),
        });
    };
    let incomplete = |what: String| Error::IncompleteContext {
        context: name.clone(),
        source_: origin.clone(),
        what,
    };
    let cluster = merged
        .clusters
        .iter_mut()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_mut())
        .ok_or_else(|| incomplete(format!("cluster {:?}", ctx.cluster)))?;
    if cluster.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(Error::ProxyUnsupported);
    }
    let basic = match cluster.server.as_deref().and_then(userinfo) {
        Some(pair) => {
            cluster.server = cluster.server.as_deref().map(strip_userinfo);
            Some(pair)
        }
        None => None,
    };
    let exec_cluster = ExecAuthCluster::try_from(&*cluster).ok();

    // client-go does not fail on a context whose user is unset or undefined: it connects
    // anonymously. The entry made for that holds basic auth from the URL, if any.
    let user_name = match ctx
        .user
        .clone()
        .filter(|u| merged.auth_infos.iter().any(|x| &x.name == u))
    {
        Some(u) => u,
        None => {
            let anonymous = format!("casa-build-anonymous-{name}");
            merged.auth_infos.push(kube::config::NamedAuthInfo {
                name: anonymous.clone(),
                auth_info: Some(AuthInfo::default()),
                ..Default::default()
            });
            if let Some(c) = merged
                .contexts
                .iter_mut()
                .find(|c| c.name == name)
                .and_then(|c| c.context.as_mut())
            {
                c.user = Some(anonymous.clone());
            }
            anonymous
        }
    };
    let info = merged
        .auth_infos
        .iter_mut()
        .find(|u| u.name == user_name)
        .map(|u| u.auth_info.get_or_insert_with(AuthInfo::default))
        .ok_or_else(|| incomplete(format!("user {user_name:?}")))?;
    read_token_file(info, &user_name, redactor)?;
    if info.exec.is_some() && info.token.is_none() {
        run_exec(info, &user_name, exec_cluster, deadline, timeout, redactor).await?;
    }
    if let Some((user, password)) = basic
        && !has_credentials(info)
    {
        info.username = Some(user);
        info.password = password.map(SecretString::from);
    }

    let options = KubeConfigOptions {
        context: Some(name.clone()),
        cluster: None,
        user: None,
    };
    let config = kube::Config::from_custom_kubeconfig(merged, &options)
        .await
        .map_err(|source| Error::Kubeconfig {
            context: name,
            source_: origin,
            source,
        })?;
    Ok(Loaded { config })
}

enum Files {
    Explicit(PathBuf),
    /// The variable as given, and its non-empty entries.
    List(String, Vec<PathBuf>),
    Default,
}

fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".kube").join("config"))
}

fn read(path: &Path, redactor: &mut Redactor) -> Result<(PathBuf, Kubeconfig), Error> {
    match Kubeconfig::read_from(path) {
        Ok(k) => Ok((path.to_path_buf(), k)),
        Err(KubeconfigError::ReadConfig(source, _)) => Err(Error::ReadKubeconfig {
            path: path.to_path_buf(),
            source,
        }),
        Err(KubeconfigError::Parse(e)) => {
            // The file could not be read as a kubeconfig, so which of its values are secret
            // is unknown: every value of it is, as far as this message goes.
            if let Ok(text) = std::fs::read_to_string(path) {
                for line in text.lines() {
                    if let Some((key, value)) = line.split_once(':')
                        && ["token", "password", "key-data", "secret"]
                            .iter()
                            .any(|k| key.to_ascii_lowercase().contains(k))
                    {
                        redactor.add(value.trim().trim_matches(['"', '\'']));
                    }
                }
            }
            let location = e.location().map(|l| (l.line(), l.column()));
            Err(Error::ParseKubeconfig {
                path: path.to_path_buf(),
                location,
                message: elide_quoted(&e.without_snippet().to_string()),
            })
        }
        Err(other) => Err(Error::MergeKubeconfig {
            files: path.display().to_string(),
            source: other,
        }),
    }
}

/// A parser message without what it quotes (`invalid type: string "…", expected ...`).
fn elide_quoted(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let mut out = String::with_capacity(first.len());
    let mut open: Option<char> = None;
    for c in first.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if matches!(c, '"' | '`') {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push('…');
    }
    // The location is given by the message's own fields.
    match out.find(" at line ") {
        Some(i) => out[..i].to_owned(),
        None => out,
    }
}

fn remember(info: &AuthInfo, redactor: &mut Redactor) {
    for secret in [&info.token, &info.password, &info.client_key_data]
        .into_iter()
        .flatten()
    {
        let s = secret.expose_secret();
        redactor.add(s);
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(s.trim())
            && let Ok(text) = String::from_utf8(decoded)
        {
            redactor.add(&text);
        }
    }
    if let Some(provider) = &info.auth_provider {
        for (key, value) in &provider.config {
            if key.contains("token") || key.contains("secret") {
                redactor.add(value);
            }
        }
    }
}

fn has_credentials(info: &AuthInfo) -> bool {
    info.token.is_some()
        || info.password.is_some()
        || info.client_certificate.is_some()
        || info.client_certificate_data.is_some()
        || info.auth_provider.is_some()
}

/// Reads `tokenFile` into `token`, trimmed as client-go trims it. An inline token wins, as in
/// kubectl.
fn read_token_file(info: &mut AuthInfo, user: &str, redactor: &mut Redactor) -> Result<(), Error> {
    let Some(path) = info.token_file.take() else {
        return Ok(());
    };
    if info.token.is_some() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadTokenFile {
        user: user.to_owned(),
        path: PathBuf::from(&path),
        source,
    })?;
    let token = text.trim();
    redactor.add(token);
    info.token = Some(SecretString::from(token.to_owned()));
    Ok(())
}

/// Runs the user's exec plugin once, as client-go's exec authenticator does
/// (k8s.io/client-go@v0.33 plugin/pkg/client/auth/exec/exec.go `refreshCredsLocked`): the
/// configured args and env, `KUBERNETES_EXEC_INFO` describing the request, standard input
/// only when interactive and a terminal, standard error passed through. The credential it
/// prints replaces the exec entry (a token, or a client certificate and key).
async fn run_exec(
    info: &mut AuthInfo,
    user: &str,
    cluster: Option<ExecAuthCluster>,
    deadline: Instant,
    timeout: Duration,
    redactor: &mut Redactor,
) -> Result<(), Error> {
    let Some(exec) = info.exec.take() else {
        return Ok(());
    };
    let command = exec.command.clone().unwrap_or_default();
    // Only the program's name is ever shown: arguments may carry a secret.
    let shown = Path::new(&command)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| command.clone());
    let fail = |problem: &str| Error::ExecOutput {
        user: user.to_owned(),
        command: shown.clone(),
        problem: problem.to_owned(),
    };
    if command.is_empty() {
        return Err(fail("has no command"));
    }
    let interactive = exec.interactive_mode != Some(ExecInteractiveMode::Never)
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    cmd.env(
        "KUBERNETES_EXEC_INFO",
        exec_info(&exec, interactive, cluster),
    );
    cmd.stdin(if interactive {
        std::process::Stdio::inherit()
    } else {
        std::process::Stdio::null()
    });
    cmd.stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::inherit());
    // Dropped at the deadline, the child is killed rather than left behind.
    cmd.kill_on_drop(true);
    let child = cmd.spawn().map_err(|source| Error::ExecStart {
        user: user.to_owned(),
        command: shown.clone(),
        source,
    })?;
    let output = match tokio::time::timeout_at(deadline.into(), read_capped(child)).await {
        Ok(result) => result.map_err(|source| Error::ExecStart {
            user: user.to_owned(),
            command: shown.clone(),
            source,
        })?,
        Err(_) => {
            return Err(Error::ExecTimeout {
                user: user.to_owned(),
                command: shown,
                timeout: Timeout::clamped(timeout),
            });
        }
    };
    let (status, stdout, overflow) = output;
    // Whatever it printed is treated as a credential from here on, success or not.
    let text = String::from_utf8_lossy(&stdout).into_owned();
    redactor.add(&text);
    if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&text) {
        for key in ["token", "clientKeyData"] {
            if let Some(s) = doc
                .get("status")
                .and_then(|s| s.get(key))
                .and_then(Value::as_str)
            {
                redactor.add(s);
            }
        }
    }
    if !status.success() {
        return Err(Error::ExecFailed {
            user: user.to_owned(),
            command: shown,
            status: match status.code() {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".to_owned(),
            },
        });
    }
    if overflow {
        return Err(fail(&format!(
            "printed more than {} KiB, which is not an ExecCredential",
            EXEC_OUTPUT_CAP / 1024
        )));
    }
    let credential: Value = serde_json::from_str(&text)
        .or_else(|_| serde_saphyr::from_str(&text))
        .map_err(|_| fail("did not print an ExecCredential (JSON) on its standard output"))?;
    let status = credential
        .get("status")
        .ok_or_else(|| fail("printed an ExecCredential without status"))?;
    let field = |k: &str| {
        status
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (
        field("token"),
        field("clientCertificateData"),
        field("clientKeyData"),
    ) {
        (Some(token), _, _) => {
            redactor.add(token);
            info.token = Some(SecretString::from(token.to_owned()));
        }
        (None, Some(cert), Some(key)) => {
            redactor.add(key);
            let b64 = base64::engine::general_purpose::STANDARD;
            info.client_certificate_data = Some(b64.encode(cert));
            let key = b64.encode(key);
            redactor.add(&key);
            info.client_key_data = Some(SecretString::from(key));
            info.client_certificate = None;
            info.client_key = None;
        }
        _ => {
            return Err(fail(
                "printed an ExecCredential with neither a token nor a client certificate and key",
            ));
        }
    }
    Ok(())
}

/// The plugin's exit status and standard output (at most [`EXEC_OUTPUT_CAP`] bytes, and
/// whether there was more).
async fn read_capped(
    mut child: tokio::process::Child,
) -> std::io::Result<(std::process::ExitStatus, Vec<u8>, bool)> {
    use tokio::io::AsyncReadExt as _;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut buf = Vec::new();
    let mut overflow = false;
    let mut chunk = [0u8; 8192];
    loop {
        let n = stdout.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        if buf.len() + n > EXEC_OUTPUT_CAP {
            overflow = true;
            // Keep draining so the plugin is not blocked on a full pipe.
            continue;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = child.wait().await?;
    Ok((status, buf, overflow))
}

/// `KUBERNETES_EXEC_INFO`: an ExecCredential with the spec filled in.
fn exec_info(exec: &ExecConfig, interactive: bool, cluster: Option<ExecAuthCluster>) -> String {
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info
        && let Some(c) = cluster
    {
        spec["cluster"] = serde_json::to_value(c).unwrap_or(Value::Null);
    }
    serde_json::json!({
        "apiVersion": exec.api_version.clone().unwrap_or_else(|| "client.authentication.k8s.io/v1".to_owned()),
        "kind": "ExecCredential",
        "spec": spec,
    })
    .to_string()
}

/// The user-info of a server URL, percent-decoded as Go's `url.User` holds it.
fn userinfo(server: &str) -> Option<(String, Option<String>)> {
    let (_, rest) = server.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (info, _) = authority.rsplit_once('@')?;
    let (user, password) = match info.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (info, None),
    };
    Some((percent_decode(user), password.map(percent_decode)))
}

fn strip_userinfo(server: &str) -> String {
    let Some((scheme, rest)) = server.split_once("://") else {
        return server.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[end..]),
        None => server.to_owned(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_split_decoded_and_stripped() {
        assert_eq!(
            userinfo("https://admin:p%40ss@k8s:6443/base"),
            Some(("admin".into(), Some("p@ss".into())))
        );
        assert_eq!(userinfo("https://tok@k8s"), Some(("tok".into(), None)));
        assert_eq!(userinfo("https://k8s:6443"), None);
        assert_eq!(
            strip_userinfo("https://admin:p%40ss@k8s:6443/base"),
            "https://k8s:6443/base"
        );
        assert_eq!(strip_userinfo("https://k8s:6443"), "https://k8s:6443");
    }

    #[test]
    fn parser_messages_lose_what_they_quote() {
        assert_eq!(
            elide_quoted(
                "invalid type: string \"s3cr3t-token\", expected a sequence at line 3 column 5"
            ),
            "invalid type: string \"…\", expected a sequence"
        );
        assert_eq!(elide_quoted("unclosed `abc"), "unclosed `…");
    }
}
