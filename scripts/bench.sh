#!/usr/bin/env bash
# Reruns the benchmarks and prints one table (medians):
#
#   - each stage (criterion, `benches/build.rs`) on the reference site and on synthetic sites
#     of 12/100/1,000 nodes with 4/25/100 instances, and the whole build as a library call;
#   - the CLI (`casa-build build`, release binary, fresh out dir) per size, wall time
#     (hyperfine) and peak memory (`/usr/bin/time -v`), plus 2,000 and 4,000 nodes to show
#     how time grows;
#   - side by side in the same run: `kubectl kustomize` over every unit folder of the tree the
#     reference build produced (one run = all folders, summed).
#
#   - the targets of issue 17, in one run, as ratios to the copy floor (`cp -r` of the tree the
#     build wrote into a fresh folder, measured beside it): the whole build (<= 2x the floor at
#     1,000 and 4,000 nodes), its peak RSS (<= 100 MB at 4,000 nodes), a rebuild after a
#     one-line change of one instance (<= 0.3x a full build) and `diff --base` of that change
#     (<= 1.5x one build). `--targets` runs only this part (about 3 minutes).
#
# Usage: scripts/bench.sh [--skip-criterion | --targets]
# Needs: hyperfine, /usr/bin/time (GNU time), kubectl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The builds use the embedded schema catalog, as `casa-build build` does with no flag;
# CASA_SCHEMAS, when set, is a schema folder over it (the CLI and the criterion benchmarks
# both read it from the environment).

skip_criterion=no
targets_only=no
case "${1:-}" in
  --skip-criterion) skip_criterion=yes ;;
  --targets) targets_only=yes; skip_criterion=yes ;;
  "") ;;
  *) echo "usage: scripts/bench.sh [--skip-criterion | --targets]" >&2; exit 2 ;;
esac

for tool in hyperfine kubectl python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing" >&2; exit 3; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 3; }

if [ "$skip_criterion" = no ]; then
  # Criterion's own report goes to stderr of this script; the table is read from its files.
  cargo bench --bench build >&2
fi
cargo build --release --quiet --bin casa-build --example gen-site
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/casa-build
gen=$target/release/examples/gen-site

work=$(mktemp -d "${TMPDIR:-/tmp}/casa-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The targets: floor, build, peak RSS, one-change rebuild and diff --base, per size, every
# command in one hyperfine run per size so the load falls on all of them alike.
targets() {
  local n=$1 i=$2 label="${1}n-${2}i" site out one
  site=$work/t-$label
  "$gen" --nodes "$n" --instances "$i" "$site" >/dev/null
  git -C "$site" init -q && git -C "$site" add -A
  git -C "$site" -c user.name=bench -c user.email=bench@example.org commit -qm base
  one=$site/instances/hub-0001.toml
  cp "$one" "$work/one.orig"
  # The one-line change: the instance's login button text.
  sed 's/^login_service = .*/login_service = "Campus login (changed)"/' "$one" > "$work/one.changed"
  cmp -s "$work/one.orig" "$work/one.changed" && { echo "bench.sh: the change changed nothing" >&2; exit 3; }
  out=$work/t-out-$label
  # The rebuild's prepare builds the unchanged site into the same out/ just before; `sync`
  # settles what that build wrote and deleted, or the rebuild waits behind it on this disk
  # (ext4 with `discard`) and measures the prepare, not itself.
  "$bin" build --site "$site" --out "$work/t-tree-$label" >/dev/null
  hyperfine -N --style none --warmup 1 --runs "${RUNS:-10}" \
    --export-json "$work/targets-$label.json" \
    -n floor --prepare "$(aside "$work/t-copy")" "cp -r '$work/t-tree-$label' '$work/t-copy'" \
    -n build --prepare "$(aside "$out")" "'$bin' build --site '$site' --out '$out'" \
    -n rebuild --prepare "sh -c \"cp '$work/one.orig' '$one' && '$bin' build --site '$site' --out '$work/t-re-$label' >/dev/null && cp '$work/one.changed' '$one' && sync\"" \
      "'$bin' build --site '$site' --out '$work/t-re-$label'" \
    -n diff-base --prepare "cp '$work/one.changed' '$one'" \
      "sh -c \"'$bin' diff --base HEAD --site '$site' >/dev/null; [ \\\$? -le 1 ]\"" >/dev/null
  cp "$work/one.orig" "$one"
  eval "$(aside "$out")"
  /usr/bin/time -v -o "$work/targets-mem-$label.txt" "$bin" build --site "$site" --out "$out" >/dev/null
}

mkdir -p "$work/trash"
aside() { echo "sh -c \"if [ -d '$1' ]; then mv '$1' '$work/trash/'\\\$(date +%s%N); fi\""; }

targets_table() {
  python3 - "$work" <<'PY'
import json, os, re, sys
work = sys.argv[1]
def med(label):
    with open(os.path.join(work, f"targets-{label}.json")) as f:
        return {r["command"]: r["median"] for r in json.load(f)["results"]}
def rss(label):
    with open(os.path.join(work, f"targets-mem-{label}.txt")) as f:
        return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1)) / 1024
print("| median (same run per size) | floor: cp -r out/ | build | build / floor (<= 2) | peak RSS (<= 100 MB at 4,000) | one-change rebuild | rebuild / build (<= 0.3) | diff --base | diff / build (<= 1.5) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for label in ["1000n-100i", "4000n-400i"]:
    m = med(label)
    fl, b, re_, d = m["floor"], m["build"], m["rebuild"], m["diff-base"]
    print(f"| {label} | {fl*1e3:.0f} ms | {b*1e3:.0f} ms | {b/fl:.2f} | {rss(label):.0f} MB | {re_*1e3:.0f} ms | {re_/b:.2f} | {d*1e3:.0f} ms | {d/b:.2f} |")
PY
}

if [ "$targets_only" = yes ]; then
  sync
  targets 1000 100
  targets 4000 400
  targets_table
  exit 0
fi

# Sites: the reference site (the repository root) and synthetic ones.
declare -A site
site[reference]=$root
cli_sizes="reference"
for s in 12:4 100:25 1000:100 2000:200 4000:400; do
  n=${s%:*} i=${s#*:} label="${s%:*}n-${s#*:}i"
  "$gen" --nodes "$n" --instances "$i" "$work/$label" >/dev/null
  site[$label]=$work/$label
  cli_sizes="$cli_sizes $label"
done

# CLI wall time (hyperfine median; a fresh out dir for every run) and peak RSS. The previous
# run's tree is moved aside, not deleted, and the trees are deleted at the end: on an ext4
# disk mounted with `discard` (as here), file creations right after deleting a tree of
# 1,500 files wait behind the deletion, and the table would show the disk, not the build.
sync  # settle what the benchmarks and the generator wrote and deleted
for label in $cli_sizes; do
  out=$work/out-$label
  hyperfine -N --style none --warmup 1 --runs 10 \
    --prepare "$(aside "$out")" \
    --export-json "$work/cli-$label.json" \
    "'$bin' build --site '${site[$label]}' --out '$out'" >/dev/null
  eval "$(aside "$out")"
  /usr/bin/time -v -o "$work/mem-$label.txt" \
    "$bin" build --site "${site[$label]}" --out "$out" >/dev/null
done

# kubectl kustomize over each unit folder (a folder with a kustomization.yaml) of the tree the
# reference build wrote, all folders in one timed command.
ref_out=$work/out-reference
units=$(cd "$ref_out" && find . -name kustomization.yaml -printf '%h\n' | sort)
printf '%s\n' $units > "$work/units.txt"
cat > "$work/kustomize-all.sh" <<EOF
#!/bin/sh
set -e
cd '$ref_out'
while read -r d; do kubectl kustomize "\$d" >/dev/null; done < '$work/units.txt'
EOF
chmod +x "$work/kustomize-all.sh"
hyperfine -N --style none --warmup 1 --runs 10 \
  --prepare "$(aside "$work/out-ref-side")" \
  --export-json "$work/side.json" \
  -n "casa-build build (reference)" \
  "'$bin' build --site '$root' --out '$work/out-ref-side'" \
  -n "kubectl kustomize (each unit of out/)" \
  "$work/kustomize-all.sh" >/dev/null

python3 - "$root/target/criterion" "$work" "$cli_sizes" "$(wc -l < "$work/units.txt")" <<'EOF'
import json, os, re, sys

crit, work, sizes, nunits = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
bench_sizes = ["reference", "12n-4i", "100n-25i", "1000n-100i"]

def fmt(seconds):
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"

def criterion(group, bench, size):
    path = os.path.join(crit, group, bench, size, "new", "estimates.json") if bench else \
        os.path.join(crit, group, size, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e9
    except (OSError, KeyError, ValueError):
        return None

def hyper(path, index=0):
    with open(path) as f:
        return json.load(f)["results"][index]["median"]

def peak_mb(label):
    with open(os.path.join(work, f"mem-{label}.txt")) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    return f"{int(m.group(1)) / 1024:.0f} MB" if m else "–"

rows = []
for stage in ["load+validate", "render", "schema-check", "tree"]:
    rows.append((stage, [fmt(criterion("stage", stage, s)) if s in bench_sizes else "–" for s in sizes]))
rows.append(("write (fresh out/)", [fmt(criterion("write", None, s)) if s in bench_sizes else "–" for s in sizes]))
rows.append(("whole build (library)", [fmt(criterion("build", None, s)) if s in bench_sizes else "–" for s in sizes]))
rows.append(("casa-build build (CLI)", [fmt(hyper(os.path.join(work, f"cli-{s}.json"))) for s in sizes]))
rows.append(("peak RSS (CLI)", [peak_mb(s) for s in sizes]))
side = os.path.join(work, "side.json")
rows.append((f"kubectl kustomize, {nunits} units", [fmt(hyper(side, 1))] + ["–"] * (len(sizes) - 1)))
rows.append(("casa-build, same run", [fmt(hyper(side, 0))] + ["–"] * (len(sizes) - 1)))

head = ["median"] + sizes
table = [head] + [[name] + cells for name, cells in rows]
widths = [max(len(r[i]) for r in table) for i in range(len(head))]
def line(r):
    return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
print(line(head))
print("|" + "|".join(("-" * (w + 1)) + ("-" if i == 0 else ":") for i, w in enumerate(widths)) + "|")
for r in table[1:]:
    print(line(r))
EOF

targets 1000 100
targets 4000 400
echo
targets_table
