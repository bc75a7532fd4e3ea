#!/usr/bin/env python3
"""bench/gen.py -- synthetic inputs for the scaling benchmarks (stdlib only).

  gen.py validate N MISSING_PCT DIR   DIR/snapshot.yaml with N measured keys
                                      spread over 4 types x 5 subtypes, and
                                      DIR/recipe.yaml with N constraints on
                                      them, MISSING_PCT% of which name a key
                                      with one letter changed (a typo: the
                                      path is missing and validate suggests
                                      the nearest ones)
  gen.py bundle N DIR                 DIR/recipe.yaml: a RecipeResult of N
                                      Helm components, each with a few values

The same arguments always give the same bytes.
"""
import os
import sys

TYPES = ["K8s", "OS", "GPU", "SystemD"]
SUBS = ["server", "node", "config", "runtime", "limits"]
WORDS = ["driver", "kernel", "memory", "network", "storage", "compute", "fabric", "module"]


def key(i):
    return "%s-%s-%d" % (WORDS[i % len(WORDS)], WORDS[(i // 8) % len(WORDS)], i)


def where(i):
    return TYPES[i % 4], SUBS[(i // 4) % 5]


def validate(n, pct, d):
    by = {}
    for i in range(n):
        by.setdefault(where(i), []).append(i)
    out = ["kind: Snapshot", "apiVersion: eidos.nvidia.com/v1alpha1", "metadata:",
           '  timestamp: "2026-01-01T00:00:00Z"', "  version: 0.1.0", "measurements:"]
    for t in TYPES:
        out.append("  - type: %s" % t)
        out.append("    subtypes:")
        for s in SUBS:
            out.append("      - subtype: %s" % s)
            out.append("        data:")
            for i in by.get((t, s), []):
                out.append('          %s: "1.%d.0"' % (key(i), i))
    with open(os.path.join(d, "snapshot.yaml"), "w") as f:
        f.write("\n".join(out) + "\n")
    every = 100 // pct if pct else 0
    out = ["kind: RecipeResult", "apiVersion: eidos.nvidia.com/v1alpha1", "metadata:", "  version: 0.1.0",
           "criteria:", "  service: any", "constraints:"]
    for i in range(n):
        t, s = where(i)
        k = key(i)
        if every and i % every == every - 1:
            k = k[:2] + ("x" if k[2] != "x" else "y") + k[3:]  # a typo: missing
        out.append("  - name: %s.%s.%s" % (t, s, k))
        out.append('    value: ">= 1.0"')
    out.append("componentRefs: []")
    with open(os.path.join(d, "recipe.yaml"), "w") as f:
        f.write("\n".join(out) + "\n")


def bundle(n, d):
    out = ["kind: RecipeResult", "apiVersion: eidos.nvidia.com/v1alpha1", "metadata:", "  version: 0.1.0",
           "criteria:", "  service: any", "componentRefs:"]
    for i in range(n):
        out += ["  - name: comp-%d" % i, "    type: Helm", "    source: https://charts.example.com/stable",
                "    chart: chart-%d" % i, "    version: 1.%d.0" % i, "    namespace: ns-%d" % i,
                "    overrides:", "      replicas: %d" % (i % 3 + 1), "      image:",
                "        repository: registry.example.com/comp-%d" % i, '        tag: "v1.%d"' % i,
                "      resources: {limits: {cpu: 500m, memory: 256Mi}}"]
    out.append("deploymentOrder:")
    out += ["  - comp-%d" % i for i in range(n)]
    with open(os.path.join(d, "recipe.yaml"), "w") as f:
        f.write("\n".join(out) + "\n")


def main(a):
    if len(a) == 4 and a[0] == "validate":
        validate(int(a[1]), int(a[2]), a[3])
    elif len(a) == 3 and a[0] == "bundle":
        bundle(int(a[1]), a[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
