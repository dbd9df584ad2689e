"""What Helm and Flux do with a HelmRelease's values before a chart's templates see them.

- Flux helm-controller hands `spec.values` to Helm as the release's values (fluxcd/
  helm-controller@v1.6.3 `internal/release/values.go`: valuesFrom first, `spec.values`
  merged last; the trees use no valuesFrom).
- Helm coalesces them with the chart's `values.yaml`: maps merge key by key, any other
  value replaces the default, and a `null` deletes the key (helm/helm@v3
  `pkg/chartutil/coalesce.go` `coalesceTablesFullKey`).
- Numbers: Helm reads YAML through JSON into float64 and `toYaml` writes an integral
  float64 without a fraction (sigs.k8s.io/yaml), so `1.0` reaches the chart as `1`.
"""

import copy

import yaml


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def coalesce(defaults, values):
    """The chart's defaults with a release's values on top, as Helm merges them."""
    out = copy.deepcopy(defaults) if isinstance(defaults, dict) else {}
    for key, value in (values or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = coalesce(out[key], value)
        else:
            out[key] = _without_nulls(copy.deepcopy(value))
    return out


def _without_nulls(value):
    # A null inside a map that has no default to delete from is dropped too: Helm's
    # coalesce removes every nil-valued key of the user's tables.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def helm_numbers(value):
    """Integral floats as integers, as they come out of Helm's `toYaml`."""
    if isinstance(value, dict):
        return {k: helm_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [helm_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def merged_values(chart_values_path, release):
    """The values a chart renders with for one HelmRelease object."""
    spec_values = release.get("spec", {}).get("values") or {}
    return helm_numbers(coalesce(load_yaml(chart_values_path), spec_values))
