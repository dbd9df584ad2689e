//! Crash safety of `casa-build build`: a build killed with SIGKILL while it writes leaves
//! `out/` exactly the old tree or exactly the new one, never a mix; what it leaves behind is
//! beside `out/`, never inside; and the next build removes it.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{path, tempdir};
use crate::synthetic::{Shape, write};

/// Kills per test: each at a different point of the write.
const KILLS: u32 = 10;

fn schemas() -> PathBuf {
    path("../shared/schemas")
}

fn start_build(site: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_casa-build"))
        .arg("build")
        .arg("--site")
        .arg(site)
        .arg("--out")
        .arg(out)
        .arg("--schemas")
        .arg(schemas())
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run casa-build")
}

#[track_caller]
fn build(site: &Path, out: &Path) {
    let run = start_build(site, out).wait_with_output().expect("wait");
    assert!(
        run.status.success(),
        "build of {} failed: {}",
        site.display(),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Every file under `dir`: relative path -> bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read a folder of out/") {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").to_string_lossy();
                out.insert(rel.into_owned(), std::fs::read(&p).expect("read a file"));
            }
        }
    }
    out
}

/// Names in `dir` that look like a build's staging or moved-aside folder.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read the folder holding out/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.new-") || n.starts_with(".out.old-"))
        .collect();
    v.sort();
    v
}

/// Waits until a staging folder appears beside `out/` (the write has begun) or the build
/// ends; returns when it appeared.
fn wait_for_staging(child: &mut Child, beside: &Path) -> Option<Instant> {
    loop {
        if !leftovers(beside).is_empty() {
            return Some(Instant::now());
        }
        if child.try_wait().expect("poll the build").is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_build_killed_while_writing_leaves_the_old_tree_or_the_new_one() {
    let sites = tempdir();
    let (old_site, new_site) = (sites.path().join("old"), sites.path().join("new"));
    let small = Shape {
        nodes: 12,
        instances: 4,
        nvme: 10,
        gpu_nodes: 2,
    };
    // Large enough that writing takes a while (1,500 files), so kills land inside the write.
    let large = Shape {
        nodes: 1000,
        instances: 100,
        ..small
    };
    write(small, &old_site).expect("write the old site");
    write(large, &new_site).expect("write the new site");

    // The two trees, built undisturbed; and how long the write of the new one takes.
    let (old_ref, new_ref) = (tempdir(), tempdir());
    build(&old_site, &old_ref.path().join("out"));
    let old = files(&old_ref.path().join("out"));
    let mut calibrate = start_build(&new_site, &new_ref.path().join("out"));
    let began = wait_for_staging(&mut calibrate, new_ref.path()).expect("the build writes");
    let status = calibrate.wait().expect("wait");
    let window = began.elapsed();
    assert!(status.success());
    let new = files(&new_ref.path().join("out"));
    assert_ne!(old, new);

    let work = tempdir();
    let out = work.path().join("out");
    let (mut killed_mid_write, mut left_old) = (0, 0);
    for i in 0..KILLS {
        if files_or_empty(&out) != old {
            build(&old_site, &out);
        }
        let mut child = start_build(&new_site, &out);
        let Some(_) = wait_for_staging(&mut child, work.path()) else {
            panic!("kill {i}: the build ended before it began writing");
        };
        // Spread the kills over the write: at once, then later each time, up to near its end
        // (the calibrated window varies with the machine's load; the margin keeps most kills
        // inside it).
        let delay = window.mul_f64(0.8 * f64::from(i) / f64::from(KILLS));
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        if status.signal() == Some(9) {
            killed_mid_write += 1;
        }

        let now = files(&out);
        if now == old {
            left_old += 1;
        }
        assert!(
            now == old || now == new,
            "kill {i} after {delay:?}: out/ is neither the old tree ({} files) nor the new one ({} files) but {} files",
            old.len(),
            new.len(),
            now.len()
        );
        assert!(
            !now.keys()
                .any(|p| p.contains(".out.new-") || p.contains(".out.old-")),
            "kill {i}: a staging folder inside out/"
        );
    }
    eprintln!(
        "{killed_mid_write} of {KILLS} builds killed while writing ({} files in {window:?}); \
         {left_old} left the old tree, the others the new one",
        new.len()
    );
    assert!(
        killed_mid_write >= 3,
        "only {killed_mid_write} of {KILLS} builds were still running when killed"
    );
    // The first kill comes as the staging folder appears, long before the swap.
    assert!(left_old >= 1, "no kill landed before the swap");

    // The next build finishes the job and removes what the killed ones left.
    build(&new_site, &out);
    assert_eq!(files(&out), new);
    assert_eq!(leftovers(work.path()), Vec::<String>::new());
}

fn files_or_empty(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    if dir.is_dir() {
        files(dir)
    } else {
        BTreeMap::new()
    }
}
