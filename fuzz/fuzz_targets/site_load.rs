//! Fuzz target: arbitrary bytes as `site.toml` plus one instance file, through what
//! `casa-build check` runs (load, validate, sort and render the diagnostics). Nothing may
//! panic, whatever the bytes.
//!
//! The input is split at the first `SEPARATOR`: the bytes before it are `site.toml`, the
//! bytes after it `instances/fuzz.toml` (empty when there is no separator). A text separator
//! keeps the seed corpus (real sites, see `fuzz/seed.sh`) readable and mutable.

#![no_main]

use casa_build::diagnostics::{render_human, render_json};
use casa_build::sources::Sources;
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n#@@instance@@\n";

fuzz_target!(|data: &[u8]| {
    let (site, instance) = match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        Some(at) => (&data[..at], &data[at + SEPARATOR.len()..]),
        None => (data, &[][..]),
    };
    let mut sources = Sources::new();
    sources.add_bytes("site.toml", site.to_vec());
    sources.add_bytes("instances/fuzz.toml", instance.to_vec());
    let (loaded, mut diags) = casa_build::site::load(&sources);
    if let Some(site) = &loaded {
        diags.extend(casa_build::validate::validate(site));
    }
    diags.sort(&sources);
    let _ = render_human(&diags, &sources);
    let _ = render_json(&diags, &sources);
});
