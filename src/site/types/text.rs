//! Grammars for the site's text values that end up in a file another program parses: Dex's
//! configuration (whose connector strings Dex expands as environment variables), Traefik's
//! command line (the chart writes `certificatesResolvers` as `--flag=value` lines, unquoted),
//! the HTCondor client configuration the notebook image writes, KubeSpawner's Python format
//! templates, and HTML that KubeSpawner does not escape. Each type admits what its consumer
//! reads as data and nothing that it would read as syntax: no `$` where Dex expands, no
//! newline or quote where a line or a quoted argument ends, no brace where KubeSpawner
//! formats, no `<` or `&` where HTML is written raw.

use std::fmt;
use std::str::FromStr;

use super::{DnsSubdomain, Hostname};

/// Quotes a value for an error message: control characters and quotes escaped, so that a
/// newline or an escape sequence in the value shows as such.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    let more = if cut.len() < s.len() { "…" } else { "" };
    format!("`{}{more}`", cut.escape_debug())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $ty:ident, $check:expr, $what:literal, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(s)
                    .map(|()| Self(s.to_owned()))
                    .map_err(|why| format!("{} is not {}: {why}", shown(s), $what))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        super::string_newtype_serde!($ty, stringify!($ty), $what, pattern = $pattern);
    };
}

fn length(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("it has {n} characters, at most {max} are allowed"));
    }
    Ok(())
}

/// The first character of `s` outside `allowed`, as an error.
fn only(s: &str, allowed: impl Fn(char) -> bool, allowed_text: &str) -> Result<(), String> {
    match s.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{} is not allowed here (allowed: {allowed_text})",
            shown(&c.to_string())
        )),
    }
}

fn is_url_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~/%".contains(c)
}

/// `https://HOST[:PORT][/PATH]`, HOST a host name (or an IPv4 address), PATH of letters,
/// digits and `-._~/%`: no user-info, query, fragment, blank or `$`.
fn check_https_url(s: &str) -> Result<(), String> {
    length(s, 2048)?;
    let rest = s
        .strip_prefix("https://")
        .ok_or("it must start with https:// (OIDC issuers are https URLs)")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err(format!("the port {} is not from 1 to 65535", shown(p)));
    }
    if host.parse::<Hostname>().is_err() && host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(format!(
            "the host {} is not a host name (lower case) or an IPv4 address",
            shown(host)
        ));
    }
    only(
        path,
        is_url_path_char,
        "letters, digits and -._~/% in the path",
    )
}

text_type!(
    /// An OIDC issuer URL (Dex's own, a connector's upstream). Dex v2.44 expands environment
    /// variables (`$VAR`, `${VAR}`) in every string of a connector's `config`
    /// (dexidp/dex@v2.44.0:cmd/dex/config.go `expandEnvInMap`, on by default through
    /// `DEX_EXPAND_ENV`), and its environment holds every client secret of the site (the
    /// `dex-env` Secret): a `$` here would put a secret into a URL sent to another server.
    HttpsUrl,
    check_https_url,
    "an https URL (https://host[:port][/path], the path of letters, digits and -._~/%)",
    r"^https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?$"
);

text_type!(
    /// An OAuth client id registered with an upstream identity provider (`cilogon:/client_id/
    /// 0123abcd`, a UUID). Expanded by Dex like every connector string (see [`HttpsUrl`]).
    ClientId,
    |s| {
        length(s, 255)?;
        only(
            s,
            |c| c.is_ascii_alphanumeric() || "-._~:/@+=".contains(c),
            "letters, digits and -._~:/@+=",
        )
    },
    "an OAuth client id",
    r"^[A-Za-z0-9._~:/@+=-]{1,255}$"
);

text_type!(
    /// An OAuth scope (`openid`, `org.cilogon.userinfo`, `wlcg.groups`): RFC 6749 §3.3's
    /// scope-token (printable ASCII but blank, `"` and `\`), without the `$` Dex would expand
    /// (see [`HttpsUrl`]).
    OAuthScope,
    |s| {
        length(s, 128)?;
        only(
            s,
            |c| c.is_ascii_graphic() && !"\"\\$".contains(c),
            "printable ASCII but blanks, quotes, \\ and $",
        )
    },
    "an OAuth scope",
    r"^[!#%-\[\]-~]{1,128}$"
);

text_type!(
    /// The name of a claim of the upstream token (`isMemberOf`, `wlcg.groups`,
    /// `preferred_username`), which Dex reads as a map key; expanded by Dex like every
    /// connector string (see [`HttpsUrl`]).
    ClaimName,
    |s| {
        length(s, 128)?;
        only(
            s,
            |c| c.is_ascii_alphanumeric() || "-._:/".contains(c),
            "letters, digits and -._:/",
        )
    },
    "a claim name",
    r"^[A-Za-z0-9._:/-]{1,128}$"
);

/// Text shown to people: no control characters (a newline or an escape sequence would forge
/// lines in a log or drive a terminal), no blanks at either end, at most 200 characters.
fn check_display(s: &str) -> Result<(), String> {
    length(s, 200)?;
    if s.trim() != s {
        return Err("it starts or ends with a blank".to_owned());
    }
    only(
        s,
        |c| !c.is_control(),
        "any character but control characters",
    )
}

text_type!(
    /// A name shown on a login page or button (a Dex connector's or client's name, the hub's
    /// `login_service`): Dex and JupyterHub escape it as HTML, so only control characters and
    /// outer blanks are refused.
    DisplayText,
    check_display,
    "display text (at most 200 characters, no control characters)",
    r"^[^\u0000-\u001f\u007f-\u009f\s]([^\u0000-\u001f\u007f-\u009f]{0,198}[^\u0000-\u001f\u007f-\u009f\s])?$"
);

text_type!(
    /// A profile's name or description on the hub's spawn page. KubeSpawner renders them
    /// into HTML without escaping (jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py builds
    /// its Jinja `Environment(loader=loader)` without autoescape; templates/form.html prints
    /// `{{ profile.display_name }}` and `{{ profile.description }}`): `<`, `>` and `&` would
    /// be markup (a script on every user's spawn page), so they are refused.
    ProfileText,
    |s| {
        check_display(s)?;
        only(
            s,
            |c| !"<>&".contains(c),
            "any character but < > & and control characters",
        )
    },
    "profile text (at most 200 characters; no < > & or control characters: KubeSpawner prints it as HTML)",
    r"^[^<>&\u0000-\u001f\u007f-\u009f\s]([^<>&\u0000-\u001f\u007f-\u009f]{0,198}[^<>&\u0000-\u001f\u007f-\u009f\s])?$"
);

text_type!(
    /// The ACME account e-mail. traefik-helm-chart v41.3.0 turns `certificatesResolvers` into
    /// command-line flags line by line and wraps each in quotes without escaping
    /// (traefik/templates/_helpers.tpl `traefik.yaml2CommandLineArgs`): a newline would add a
    /// flag of its own (`--api.insecure=true`), a quote would break the Deployment. A plain
    /// address is all Let's Encrypt takes.
    Email,
    |s| {
        length(s, 254)?;
        let (local, domain) = s.rsplit_once('@').ok_or("it has no @")?;
        if local.is_empty() || local.len() > 64 {
            return Err("the part before @ must have 1 to 64 characters".to_owned());
        }
        only(
            local,
            |c| c.is_ascii_alphanumeric() || "._%+-".contains(c),
            "letters, digits and ._%+- before the @",
        )?;
        domain
            .parse::<Hostname>()
            .map(|_| ())
            .map_err(|_| format!("{} is not a host name", shown(domain)))
    },
    "an e-mail address (name@host, the name of letters, digits and ._%+-)",
    r"^[A-Za-z0-9._%+-]{1,64}@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"
);

text_type!(
    /// A value of the HTCondor client configuration (`COLLECTOR_NAME`). The hub gives it to
    /// the notebook as an environment variable, which KubeSpawner formats as a Python
    /// template first (jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py `_expand_env`,
    /// `str.format`), and CoffeaTeam/coffea-casa docker/prepare-env/prepare-env-cc.sh writes
    /// it as a `KEY = value` line of the scheduler configuration: a newline would add
    /// configuration lines (`SEC_DEFAULT_AUTHENTICATION = NEVER`), `$(...)` is HTCondor macro
    /// expansion (`$ENV(...)`), a trailing `\` continues the line, a brace fails the spawn.
    CondorValue,
    |s| {
        length(s, 128)?;
        if s.trim() != s {
            return Err("it starts or ends with a blank".to_owned());
        }
        only(
            s,
            |c| (c == ' ' || c.is_ascii_graphic()) && !"$\\{}\"'`".contains(c),
            "printable ASCII but $ \\ { } quotes and backquotes",
        )
    },
    "an HTCondor configuration value (printable ASCII, no $ \\ { } or quotes)",
    r"^[A-Za-z0-9!#%&()*+,./:;<=>?@\[\]^_|~-]([ A-Za-z0-9!#%&()*+,./:;<=>?@\[\]^_|~-]{0,126}[A-Za-z0-9!#%&()*+,./:;<=>?@\[\]^_|~-])?$"
);

/// The placeholders KubeSpawner 7 fills in a path (`{username}`), all of them slugs that hold
/// no `/` (jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py `_expand_user_properties`);
/// the `unescaped_*` ones are left out, since a user name may hold `/` or `..`.
const PATH_PLACEHOLDERS: &[&str] = &[
    "username",
    "servername",
    "user_server",
    "safe_username",
    "safe_servername",
    "safe_user_server",
    "escaped_username",
    "escaped_servername",
    "escaped_user_server",
    "userid",
    "hubnamespace",
];

fn check_pod_path(s: &str) -> Result<(), String> {
    length(s, 1024)?;
    let rest = s.strip_prefix('/').ok_or("it must be an absolute path")?;
    if rest.is_empty() {
        return Err("the root folder itself cannot be mounted over".to_owned());
    }
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!(
                "the segment {} is empty, `.` or `..`",
                shown(segment)
            ));
        }
        // Placeholders first, then what is left must be plain.
        let mut plain = String::new();
        let mut rest = segment;
        while let Some(open) = rest.find('{') {
            plain.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .map(|n| open + n)
                .ok_or("a `{` without its `}`")?;
            let name = &rest[open + 1..close];
            if !PATH_PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "{{{name}}} is not a placeholder KubeSpawner fills safely (use one of {})",
                    PATH_PLACEHOLDERS.join(", ")
                ));
            }
            rest = &rest[close + 1..];
        }
        plain.push_str(rest);
        only(
            &plain,
            |c| c.is_ascii_alphanumeric() || "-._".contains(c),
            "letters, digits and -._ between the slashes, and {username}-style placeholders",
        )?;
    }
    Ok(())
}

text_type!(
    /// A path of the user's pod (the home mount, the `/store/user` mount and its host
    /// folder). KubeSpawner formats every volume and mount as a Python template
    /// (jupyterhub/kubespawner@7.0.0 kubespawner/spawner.py `_expand_all` over `volumes` and
    /// `volume_mounts`), so a stray brace fails every spawn, and `..` would leave the folder
    /// meant: an absolute path of plain segments, with KubeSpawner's slug placeholders
    /// (`{username}`) allowed.
    PodPath,
    check_pod_path,
    "an absolute path of letters, digits and -._ (and {username}-style placeholders)",
    r"^(/([A-Za-z0-9._-]|\{[a-z_]+\})+)+$"
);

/// HTCondor's `UID_DOMAIN` is a DNS domain; as a host name it can carry nothing else.
pub type UidDomain = DnsSubdomain;

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn ok<T: FromStr<Err = String> + fmt::Display>(s: &str) {
        let v: T = s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert_eq!(v.to_string(), s);
    }

    #[track_caller]
    fn bad<T: FromStr<Err = String> + fmt::Debug>(s: &str) -> String {
        let e = s.parse::<T>().expect_err(s);
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e:?}");
        e
    }

    #[test]
    fn issuer_urls_refuse_what_dex_would_expand() {
        for s in [
            "https://cilogon.org",
            "https://cms-auth.web.cern.ch/",
            "https://dex.flatiron.hollandhpc.org",
            "https://10.0.0.1:5556/dex",
        ] {
            ok::<HttpsUrl>(s);
        }
        assert!(bad::<HttpsUrl>("https://cilogon.org/$CLIENT_CMS_PROD_SECRET").contains("$"));
        for s in [
            "http://cilogon.org",
            "https://user:pw@cilogon.org",
            "https://cilogon.org/?a=b",
            "https://cilogon.org\n",
            "https://${HOME}.org",
            "",
        ] {
            bad::<HttpsUrl>(s);
        }
    }

    #[test]
    fn connector_strings_refuse_dollars_and_blanks() {
        ok::<ClientId>("cilogon:/client_id/0123abcd");
        ok::<ClientId>("7c6e1e2a-0d7f-4a4b-9b0e-1f0e5c9b0a11");
        bad::<ClientId>("$CLIENT_CMS_PROD_SECRET");
        bad::<ClientId>("a b");
        ok::<OAuthScope>("org.cilogon.userinfo");
        ok::<OAuthScope>("wlcg.groups");
        bad::<OAuthScope>("${X}");
        bad::<OAuthScope>("two words");
        ok::<ClaimName>("isMemberOf");
        bad::<ClaimName>("groups\nother");
    }

    #[test]
    fn display_and_profile_text() {
        ok::<DisplayText>("CMS IAM");
        ok::<DisplayText>("Département d'physique — Hub");
        bad::<DisplayText>("line\nbreak");
        bad::<DisplayText>("\u{1b}[2Jcleared");
        bad::<DisplayText>(" padded");
        bad::<DisplayText>(&"x".repeat(201));
        ok::<ProfileText>("Coffea base image (Python 3.12)");
        let e = bad::<ProfileText>("<script>alert(1)</script>");
        assert!(e.contains("`<`"), "{e}");
        bad::<ProfileText>("R&D");
    }

    #[test]
    fn acme_emails_cannot_add_traefik_flags() {
        ok::<Email>("cms-support@cse.unl.edu");
        ok::<Email>("first.last+acme@example.org");
        for s in [
            "a@b.org\n--api.insecure=true",
            "a\"@b.org",
            "a@b",
            "@b.org",
            "a b@c.org",
            "a@B.org",
        ] {
            bad::<Email>(s);
        }
    }

    #[test]
    fn condor_values_cannot_add_lines_or_macros() {
        ok::<CondorValue>("Nebraska T2");
        ok::<CondorValue>("T2_US_Nebraska (red)");
        for s in [
            "Nebraska\nSEC_DEFAULT_AUTHENTICATION = NEVER",
            "$(FULL_HOSTNAME)",
            "$ENV(HOME)",
            "trailing \\",
            "{username}",
            " padded",
            "quote\"",
        ] {
            bad::<CondorValue>(s);
        }
    }

    #[test]
    fn pod_paths_allow_placeholders_and_nothing_else() {
        ok::<PodPath>("/home/jovyan");
        ok::<PodPath>("/store/user/{username}");
        ok::<PodPath>("/mnt/t2/{safe_username}-data");
        for s in [
            "home/jovyan",
            "/",
            "/home/../etc",
            "/home//x",
            "/home/{unescaped_username}",
            "/home/{username",
            "/home/{0}",
            "/home/a b",
            "/home/x\n",
        ] {
            bad::<PodPath>(s);
        }
    }
}
