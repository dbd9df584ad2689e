//! CB093 bucket-owner-unknown.
//!
//! What: a `[[ceph.object_store.bucket]]` names an `owner` that no
//! `[[ceph.object_store.user]]` defines.
//! Why: the claim sets `bucketOwner`, and with it Rook only looks the user up, never creates
//! it ("Ceph object user %q not found", rook@v1.20.6:pkg/operator/ceph/object/bucket/
//! rgw-handlers.go `getUserCreds`): the claim is never bound and its consumer never starts.
//! Fix: define the user (a CephObjectStoreUser is made for each), or name an existing one.

use crate::diagnostics::{BUCKET_OWNER_UNKNOWN, Diagnostic};
use crate::site::Site;

pub(super) fn check(site: &Site) -> Vec<Diagnostic> {
    let Some(os) = site
        .spec
        .ceph
        .as_ref()
        .and_then(|c| c.object_store.as_ref())
    else {
        return Vec::new();
    };
    let users: Vec<&str> = os.user.iter().map(|u| u.name.get_ref().as_str()).collect();
    os.bucket
        .iter()
        .filter(|b| !users.contains(&b.owner.get_ref().as_str()))
        .map(|b| {
            let known = if users.is_empty() {
                "the object store has no users".to_owned()
            } else {
                format!("its users: {}", users.join(", "))
            };
            Diagnostic::new(
                BUCKET_OWNER_UNKNOWN,
                format!(
                    "bucket `{}` is owned by `{}`, which is not a user of object store `{}` ({known})",
                    b.name,
                    b.owner.get_ref(),
                    os.name
                ),
            )
            .at(site.file, b.owner.span(), "no such user")
            .help(BUCKET_OWNER_UNKNOWN.info().fix)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::testing::*;

    #[test]
    fn passes_on_the_reference_site() {
        assert!(check(&site_with(&[], &[]).0).is_empty());
    }

    #[test]
    fn finds_an_owner_that_is_not_a_user() {
        let (site, src) = site_with(&[("owner = \"triton\"", "owner = \"models\"")], &[]);
        let (l, c) = pos(SITE, "\"triton\"\n\n[traefik]");
        let found = check(&site);
        assert_finds(&found, &src, &[(BUCKET_OWNER_UNKNOWN, "site.toml", l, c)]);
        assert!(
            found[0].message.contains("its users: triton"),
            "{}",
            found[0].message
        );
    }
}
