//! What ends a `diff --live` run before there is a report: no usable kubeconfig, a credential
//! that cannot be obtained, a cluster that cannot be reached or does not answer in time.
//! A refusal about one resource is not one of these: it is an entry of the report.
//!
//! Messages name the file, context, command or request, never a credential; the run's
//! [`Redactor`] is applied once more when the error is printed ([`Failure`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::timeout::Timeout;
use crate::redact::Redactor;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read kubeconfig {}", path.display())]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The parser's own words are not shown: they may quote the line, and the line may hold
    /// a token.
    #[error(
        "cannot parse kubeconfig {}{}: {message} (`kubectl config view --kubeconfig {}` shows the file with its credentials hidden)",
        path.display(),
        location.map(|(l, c)| format!(" at line {l}, column {c}")).unwrap_or_default(),
        path.display()
    )]
    ParseKubeconfig {
        path: PathBuf,
        location: Option<(u64, u64)>,
        message: String,
    },
    #[error("cannot merge the kubeconfig files {files}")]
    MergeKubeconfig {
        files: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error(
        "no cluster configured: {looked}; give --kubeconfig FILE or set KUBECONFIG, or run in a pod"
    )]
    NoConfig { looked: String },
    #[error("{source_} sets no current-context: give --context, one of: {contexts}")]
    NoCurrentContext { source_: String, contexts: String },
    #[error("context {context:?} is not in {source_}; its contexts are: {contexts}")]
    UnknownContext {
        context: String,
        source_: String,
        contexts: String,
    },
    #[error("context {context:?} of {source_} names {what}, which is not defined there")]
    IncompleteContext {
        context: String,
        source_: String,
        what: String,
    },
    #[error("--context {context:?} needs a kubeconfig, and there is none: {looked}")]
    ContextWithoutKubeconfig { context: String, looked: String },
    #[error("cannot use context {context:?} of {source_}")]
    Kubeconfig {
        context: String,
        source_: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("cannot use the in-cluster service account")]
    InCluster(#[source] kube::config::InClusterError),
    #[error(
        "the kubeconfig sets proxy-url for the cluster, which casa-build does not support: reach the API server directly"
    )]
    ProxyUnsupported,
    #[error("cannot read the token file {} of user {user:?}", path.display())]
    ReadTokenFile {
        user: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the exec plugin {command:?} of user {user:?}")]
    ExecStart {
        user: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the exec plugin {command:?} of user {user:?} did not finish within {timeout} (--timeout); it was stopped"
    )]
    ExecTimeout {
        user: String,
        command: String,
        timeout: Timeout,
    },
    /// The plugin's standard output is never shown: on success it is a credential, and a
    /// failing plugin may print one too. Its standard error went to ours, as kubectl does.
    #[error(
        "the exec plugin {command:?} of user {user:?} failed ({status}); its messages, if any, are above"
    )]
    ExecFailed {
        user: String,
        command: String,
        status: String,
    },
    #[error("the exec plugin {command:?} of user {user:?} {problem}")]
    ExecOutput {
        user: String,
        command: String,
        problem: String,
    },
    #[error("cannot set up TLS for {server}: {message}")]
    Tls { server: String, message: String },
    #[error("cannot make a client for {server}")]
    Client {
        server: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot reach the cluster at {server}: {request} failed after {attempts} attempts")]
    Unreachable {
        server: String,
        request: String,
        attempts: u32,
        #[source]
        source: kube::Error,
    },
    #[error("the cluster at {server} refused discovery: {message}")]
    Discovery { server: String, message: String },
    #[error("the cluster at {server} did not answer within {timeout} (--timeout)")]
    Timeout { server: String, timeout: Timeout },
}

impl Error {
    /// A timeout error for the whole run, the duration shown as it was given.
    pub fn timeout(server: &str, timeout: Duration) -> Self {
        Error::Timeout {
            server: server.to_owned(),
            timeout: Timeout::clamped(timeout),
        }
    }
}

/// An [`Error`] ready to print: its whole chain of causes in one line, with every credential
/// the run knew of redacted. It has no `source()`, so that nothing prints the chain again
/// unredacted.
pub struct Failure {
    message: String,
}

impl Failure {
    pub fn new(error: &Error, redactor: &Redactor) -> Self {
        let mut message = error.to_string();
        let mut cause = std::error::Error::source(error);
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = c.source();
        }
        Self {
            message: redactor.redact(&message),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
