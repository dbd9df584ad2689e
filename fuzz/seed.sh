#!/usr/bin/env bash
# Seeds the fuzz corpora from real inputs: every site in the repository (the reference site,
# the small example site, each bad-input case) as site.toml + one instance file for
# `site_load`, and every sealed value in them for `sealed_value`. The corpora are not
# committed (fuzz/.gitignore); rerun this before fuzzing on a fresh checkout.
#
#   fuzz/seed.sh && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run site_load -- -jobs=1 -max_total_time=600
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
for case in "$root"/tests/bad-input/*/; do
  seed_site "${case%/}"
done

# Sealed values: the ciphertext of every `sealed = "…"` in the sites above, one per file.
grep -rhoE 'sealed = "[^"]*"' "$root/site.toml" "$root/instances" "$root/examples/small-site" \
  | sed -E 's/^sealed = "(.*)"$/\1/' | sort -u | head -n 64 \
  | while IFS= read -r v; do
      printf '%s' "$v" > "corpus/sealed_value/seed-$(printf '%s' "$v" | sha1sum | cut -c1-16)"
    done
echo "site_load: $(ls corpus/site_load | wc -l) seeds; sealed_value: $(ls corpus/sealed_value | wc -l) seeds"
