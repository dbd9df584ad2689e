//! Property tests (proptest) over generated sites, through the library's pipeline rather than
//! the binary so that each case costs a build, not a process: a build is a function of its
//! sources (byte-identical trees whatever the order the files are read in, whatever the hash
//! seeds), the per-resource diff of a build with itself is empty, and an edit shows in it.
//!
//! Sites come from the shared synthetic generator (`examples/synthetic`) at random small
//! shapes; case counts stay low so the whole of `cargo test` fits CI's budget on 2 cores.

use std::path::Path;
use std::sync::OnceLock;

use casa_build::check::SchemaStore;
use casa_build::diff::resource::{Side, Status, compare};
use casa_build::pipeline::{Build, build};
use casa_build::sources::Sources;
use casa_build::tree::Tree;
use proptest::prelude::*;

use crate::support::tempdir;
use crate::synthetic::{Shape, files};

/// One store for all cases (the embedded catalog, as a CLI run without a schema folder
/// uses): it compiles each schema once, as one CLI run does.
fn store() -> &'static SchemaStore {
    static STORE: OnceLock<SchemaStore> = OnceLock::new();
    STORE.get_or_init(|| SchemaStore::embedded().expect("the embedded catalog"))
}

fn shapes() -> impl Strategy<Value = Shape> {
    (0u32..=2, 0u32..=40, 0u32..=6, 1u32..=4).prop_map(|(gpu_nodes, extra, instances, nvme)| {
        Shape {
            // 3 control-plane nodes, the GPU nodes, at least 3 storage nodes.
            nodes: 6 + gpu_nodes + extra,
            instances,
            nvme,
            gpu_nodes,
        }
    })
}

/// The site's files in the order given (the loader keeps `site.toml` first by path).
fn sources(files: &[(String, String)]) -> Sources {
    let mut s = Sources::new();
    for (p, text) in files.iter().filter(|(p, _)| p.ends_with(".toml")) {
        s.add(p.clone(), text.clone());
    }
    s
}

#[track_caller]
fn build_ok(s: &Sources) -> Build {
    match build(s, store()) {
        Ok(b) => b,
        Err(d) => panic!(
            "a generated site does not build:\n{}",
            casa_build::diagnostics::render_human(&d, s)
        ),
    }
}

fn side(b: &Build) -> Side<'_> {
    Side {
        manifests: &b.manifests,
        units: &b.units,
    }
}

/// The first path at which two trees differ, for a readable failure.
fn first_difference(a: &Tree, b: &Tree) -> Option<String> {
    let paths = a.files.keys().chain(b.files.keys());
    paths
        .filter(|p| a.files.get(*p) != b.files.get(*p))
        .min()
        .cloned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_build_is_a_function_of_its_sources(shape in shapes(), reverse in any::<bool>()) {
        let files = files(shape);
        let a = build_ok(&sources(&files));
        // The same files read in another order: instance files reversed (or not), and a
        // second build, whose hash maps are seeded differently.
        let mut reordered = files.clone();
        if reverse {
            reordered[1..].reverse();
        }
        let b = build_ok(&sources(&reordered));
        prop_assert!(a.tree == b.tree, "trees differ at {:?}", first_difference(&a.tree, &b.tree));

        // Written to disk, the tree is exactly what `build --check` compares against.
        let dir = tempdir();
        let out = dir.path().join("out");
        prop_assert!(casa_build::emit::write(&a.tree, &out).expect("write out/"));
        prop_assert!(casa_build::emit::compare(&b.tree, &out).expect("read out/").is_empty());
        prop_assert!(!casa_build::emit::write(&b.tree, &out).expect("write out/"));
    }

    #[test]
    fn the_diff_of_a_build_with_itself_is_empty(shape in shapes()) {
        let files = files(shape);
        let a = build_ok(&sources(&files));
        let b = build_ok(&sources(&files));
        let same = compare(side(&a), side(&a));
        prop_assert!(same.is_empty(), "{} changes against itself", same.len());
        let again = compare(side(&a), side(&b));
        prop_assert!(again.is_empty(), "{} changes against a rebuild", again.len());
    }

    #[test]
    fn one_more_instance_shows_as_added_objects_only(shape in shapes()) {
        let base = build_ok(&sources(&files(shape)));
        let grown = Shape { instances: shape.instances + 1, ..shape };
        let head = build_ok(&sources(&files(grown)));
        let changes = compare(side(&base), side(&head));
        let name = format!("hub-{:04}", shape.instances);
        prop_assert!(
            changes.iter().any(|c| c.status == Status::Added && c.id.name.contains(&name)),
            "no object of the new instance {name} is added"
        );
        prop_assert!(
            !changes.iter().any(|c| c.status == Status::Removed),
            "an added instance removed objects"
        );
    }
}

#[test]
fn the_generator_writes_what_it_generates() {
    // The synthetic site on disk reads back as the same sources (`gen-site` uses `write`).
    let dir = tempdir();
    let shape = Shape {
        nodes: 8,
        instances: 1,
        nvme: 2,
        gpu_nodes: 1,
    };
    crate::synthetic::write(shape, dir.path()).expect("write a synthetic site");
    let from_disk = Sources::from_dir(Path::new(dir.path())).expect("read it back");
    let b = build_ok(&from_disk);
    assert!(
        b.tree
            .files
            .keys()
            .any(|p| p.starts_with("instances/hub-0000/"))
    );
}
