#!/usr/bin/env bash
# Seeds the fuzz corpora from real inputs: every site in the repository (the reference site,
# the small example site, each bad-input case) as site.toml + one instance file for
# `site_load`, and every sealed value in them for `sealed_value`. The corpora are not
# committed (fuzz/.gitignore); rerun this before fuzzing on a fresh checkout.
#
#   fuzz/seed.sh && cd fuzz && cargo fuzz run site_load --sanitizer none -- \
#     -dict=corpus/site_load.dict -jobs=1 -max_total_time=600
set -euo pipefail
cd "$(dirname "$0")"
root=..
sep=$'\n#@@instance@@\n'
mkdir -p corpus/site_load corpus/sealed_value

n=0
seed_site() {
  local dir=$1
  [ -f "$dir/site.toml" ] || return 0
  for inst in "$dir"/instances/*.toml; do
    [ -f "$inst" ] || continue
    n=$((n + 1))
    { cat "$dir/site.toml"; printf '%s' "$sep"; cat "$inst"; } > "corpus/site_load/seed-$n"
  done
}
seed_site "$root"
seed_site "$root/examples/small-site"
seed_site "$root/examples/tenant-site"
seed_site "$root/examples/bare-metal"
for case in "$root"/tests/bad-input/*/; do
  seed_site "${case%/}"
done

# Sealed values: the ciphertext of every `sealed = "…"` in the sites above, one per file.
grep -rhoE 'sealed = "[^"]*"' "$root/site.toml" "$root/instances" "$root/examples/small-site" \
  | sed -E 's/^sealed = "(.*)"$/\1/' | sort -u | head -n 64 \
  | while IFS= read -r v; do
      printf '%s' "$v" > "corpus/sealed_value/seed-$(printf '%s' "$v" | sha1sum | cut -c1-16)"
    done
# A libFuzzer dictionary of the site files' keys, from the committed JSON Schemas, so that
# mutations make known keys (and so reach the validation rules) more often than chance would.
python3 - "$root/schemas" > corpus/site_load.dict <<'PY'
import json, sys, pathlib
keys = set()
def walk(v):
    if isinstance(v, dict):
        for k, sub in v.get("properties", {}).items():
            keys.add(k)
        for sub in v.values():
            walk(sub)
    elif isinstance(v, list):
        for sub in v:
            walk(sub)
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.schema.json")):
    walk(json.loads(f.read_text()))
for k in sorted(keys):
    print(json.dumps(k))
PY
echo "site_load: $(ls corpus/site_load | wc -l) seeds, $(wc -l < corpus/site_load.dict) dictionary words;" \
  "sealed_value: $(ls corpus/sealed_value | wc -l) seeds"
