//! Writes a valid synthetic site of any size, for benchmarks, property tests and scale runs:
//!
//! ```sh
//! cargo run --release --example gen-site -- --nodes 1000 --instances 100 /tmp/big-site
//! ```

use std::path::PathBuf;

mod synthetic;

use synthetic::Shape;

fn parse_args() -> Result<(Shape, PathBuf), String> {
    let mut a = Shape {
        nodes: 12,
        instances: 4,
        nvme: 10,
        gpu_nodes: 2,
    };
    let mut dir = PathBuf::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<u32, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} takes a number"))
        };
        match arg.as_str() {
            "--nodes" => a.nodes = num("--nodes")?,
            "--instances" => a.instances = num("--instances")?,
            "--nvme" => a.nvme = num("--nvme")?,
            "--gpu-nodes" => a.gpu_nodes = num("--gpu-nodes")?,
            other if !other.starts_with('-') => dir = PathBuf::from(other),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if dir.as_os_str().is_empty() {
        return Err(
            "usage: gen-site [--nodes N] [--instances M] [--nvme D] [--gpu-nodes G] DIR".into(),
        );
    }
    if a.nodes < 6 + a.gpu_nodes {
        return Err(format!(
            "--nodes must be at least {} (3 control-plane, the GPU nodes, 3 storage)",
            6 + a.gpu_nodes
        ));
    }
    if a.nodes > 60_000 || a.instances > 1_000 {
        return Err("at most 60000 nodes and 1000 instances".into());
    }
    Ok((a, dir))
}

fn main() {
    let (shape, dir) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-site: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = synthetic::write(shape, &dir) {
        eprintln!("gen-site: cannot write {}: {e}", dir.display());
        std::process::exit(3);
    }
    println!(
        "wrote a site with {} nodes and {} instances to {}",
        shape.nodes,
        shape.instances,
        dir.display()
    );
}
