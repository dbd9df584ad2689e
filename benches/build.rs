//! Criterion benchmarks of each stage of the build and of the whole build, on the reference
//! site and on synthetic sites of 12/100/1,000 nodes with 4/25/100 instances, and of a cold
//! schema check from the embedded catalog against one from the shared schema folder.
//!
//! `cargo bench --bench build` (or `scripts/bench.sh` for the table with peak memory).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

use casa_build::check::{Origin, SchemaLocation, SchemaStore, check_schemas};
use casa_build::pipeline::build;
use casa_build::render::{render, units};
use casa_build::sources::Sources;
use casa_build::tree::Tree;

// Shared with the `gen-site` example, which also uses the writer.
#[allow(dead_code)]
#[path = "../examples/synthetic/mod.rs"]
mod synthetic;

const SIZES: [(u32, u32); 3] = [(12, 4), (100, 25), (1000, 100)];

/// A fresh schema store as the CLI opens one: the embedded catalog, under `CASA_SCHEMAS` when
/// it is set (to measure a schema folder instead).
fn store() -> SchemaStore {
    let user: Vec<SchemaLocation> = std::env::var_os("CASA_SCHEMAS")
        .filter(|v| !v.is_empty())
        .map(|dir| SchemaLocation {
            dir: PathBuf::from(dir),
            origin: Origin::Environment,
        })
        .into_iter()
        .collect();
    SchemaStore::open(&user).expect("schemas")
}

fn synthetic_sources(nodes: u32, instances: u32) -> Sources {
    let shape = synthetic::Shape {
        nodes,
        instances,
        nvme: 10,
        gpu_nodes: 2,
    };
    let mut s = Sources::new();
    for (path, text) in synthetic::files(shape) {
        if path.ends_with(".toml") {
            s.add(path, text);
        }
    }
    s
}

fn reference_sources() -> Sources {
    Sources::from_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the reference site")
}

/// The sites every stage is measured on: the reference site, then the synthetic sizes.
fn sites() -> Vec<(String, Sources)> {
    let mut v = vec![("reference".to_owned(), reference_sources())];
    for (nodes, instances) in SIZES {
        v.push((
            format!("{nodes}n-{instances}i"),
            synthetic_sources(nodes, instances),
        ));
    }
    v
}

fn stages(c: &mut Criterion) {
    let store = store();
    let mut g = c.benchmark_group("stage");
    g.sample_size(20);
    let mut trees = Vec::new();
    for (label, sources) in sites() {
        let (site, _) = casa_build::site::load(&sources);
        let site = site.expect("a valid synthetic site");
        let manifests = render(&site, &sources).expect("renders");
        let units = units(&site);
        let _ = check_schemas(&site, &store, &manifests); // warm the schema cache
        let tree = Tree::from_manifests(&manifests, &units);

        g.bench_with_input(
            BenchmarkId::new("load+validate", &label),
            &sources,
            |b, s| {
                b.iter(|| {
                    let (site, _) = casa_build::site::load(s);
                    casa_build::validate::validate(site.as_ref().expect("loads"))
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("render", &label), &site, |b, site| {
            b.iter(|| render(site, &sources))
        });
        g.bench_with_input(
            BenchmarkId::new("schema-check", &label),
            &manifests,
            |b, m| b.iter(|| check_schemas(&site, &store, m)),
        );
        g.bench_with_input(BenchmarkId::new("tree", &label), &manifests, |b, m| {
            b.iter(|| Tree::from_manifests(m, &units))
        });
        trees.push((label, tree));
    }
    g.finish();

    // A fresh out/ each time, as a first build writes it. The trees written are deleted only
    // after the last one is measured: on this kind of disk (ext4 mounted with `discard`),
    // deleting a tree of 1,500 files slows the file creations that follow for a while, so
    // deleting between iterations would measure the deletions too. Short runs keep the number
    // of files (and the deletion after) small.
    let mut g = c.benchmark_group("write");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut written = Vec::new();
    for (label, tree) in &trees {
        g.bench_with_input(BenchmarkId::from_parameter(label), tree, |b, t| {
            b.iter_custom(|iters| {
                let dirs: Vec<tempfile::TempDir> = (0..iters)
                    .map(|_| tempfile::tempdir().expect("tempdir"))
                    .collect();
                let start = Instant::now();
                for dir in &dirs {
                    casa_build::emit::write(t, &dir.path().join("out")).expect("write");
                }
                let took = start.elapsed();
                written.extend(dirs);
                took
            })
        });
    }
    g.finish();
    drop(written);
}

/// The whole build as the CLI runs it: a fresh schema store (schemas compiled on first use),
/// load, validate, render, check, tree.
fn whole(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    let reference = reference_sources();
    g.bench_function("reference", |b| {
        b.iter(|| {
            let store = store();
            build(&reference, &store).expect("builds")
        })
    });
    for (nodes, instances) in SIZES {
        let sources = synthetic_sources(nodes, instances);
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{nodes}n-{instances}i")),
            &sources,
            |b, s| {
                b.iter(|| {
                    let store = store();
                    build(s, &store).expect("builds")
                })
            },
        );
    }
    g.finish();
}

/// The schema check of the reference site with a fresh store, as one CLI run pays it: every
/// schema read, decompressed or parsed, and compiled on first use. From the embedded catalog,
/// and from the shared schema folder when it is beside the repository, to compare the two.
fn cold_schemas(c: &mut Criterion) {
    let mut g = c.benchmark_group("schema-check-cold");
    g.sample_size(20);
    let sources = reference_sources();
    let (site, _) = casa_build::site::load(&sources);
    let site = site.expect("the reference site loads");
    let manifests = render(&site, &sources).expect("renders");
    g.bench_function("embedded", |b| {
        b.iter(|| {
            let store = SchemaStore::embedded().expect("the catalog");
            check_schemas(&site, &store, &manifests)
        })
    });
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas");
    if shared.is_dir() {
        let folder = [SchemaLocation {
            dir: shared,
            origin: Origin::Flag,
        }];
        g.bench_function("shared-folder", |b| {
            b.iter(|| {
                let store = SchemaStore::folders_only(&folder).expect("the folder");
                check_schemas(&site, &store, &manifests)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, stages, whole, cold_schemas);
criterion_main!(benches);
