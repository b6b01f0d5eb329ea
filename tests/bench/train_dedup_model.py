"""Train the verify step's trees (tipline/dedup_model.h) and write them to
native/src/dedup_model_trees.inc (not a test; needs scikit-learn from
requirements-bench.txt).

    PYTHONPATH=python .venv/bin/python tests/bench/train_dedup_model.py \
        [--sets outside-exact:1,outside-exact:2,...]

The training sets are the benchmarks' streams with seeds of their own (the
replica of the outside check with both curations, seeds 1-5, and the
harder benchmark's development split, seeds 1601-1603); every other seed,
and the harder benchmark's held-out files, stay for measuring. A set's
candidate pairs are the pairs of texts that share a band key (as the
index stores and looks them up: tipline_core.band_keys) and whose overlap
reaches the model's region (ModelRegion): the pairs the model will be asked
about.
Each pair's features come from tipline_core.pair_features, the native code
that the index runs, so that training and use see the same numbers; its
label is whether the two texts are of one group.

Two ensembles of gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier, fixed iterations and seed, so a run is
reproducible): one for two Chinese texts, one for the others. Each is cut
at a probability chosen once on the replica's seeds 71-73 with
--curate exact (README): 0.7 for Chinese pairs, where the corpora's
near-identical entries make precision the harder goal, and 0.6 for the
others; a pair of texts that each carry substance of their own (the same
wrapper around two messages: SubstanceOf) needs 0.9 in both.

Before writing, the trees are walked in Python the way dedup_model.cc walks
them, and compared with scikit-learn's decision on training pairs.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys

import numpy as np
import tipline_core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dedup_holdout as dh  # noqa: E402
import dedup_outside as do  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "native", "src", "dedup_model_trees.inc")
REGION = (0.28, 0.55)  # the region trained on (the index now stops at a containment of 0.70: dedup_model.h)
SETS = ("outside-exact:1,outside-exact:2,outside-exact:3,outside-exact:4,outside-exact:5,"
        "outside:1,outside:2,outside:3,outside:4,outside:5,"
        "dev:1601,dev:1602,dev:1603")
CUT = {"cjk": 0.7, "other": 0.6}
OWN_SUBSTANCE_CUT = 0.9  # kOwnSubstanceCut
PARAMS = dict(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
              early_stopping=False, random_state=0)


def stream(spec: str):
    "(texts, order, true pairs) of a benchmark set"
    name, seed = spec.split(":")
    if name.startswith("outside"):
        s = do.Stream(int(seed), 20000, "exact" if name == "outside-exact" else "near")
    else:
        s = dh.Stream(name, 2000, int(seed))
    return s.texts, s.order, s.true_pairs


def in_region(f, cjk: bool) -> bool:
    "ModelRegion (dedup_model.cc) at the default threshold and containment"
    jaccard, containment, smaller = f[0], f[1], int(f[24])
    return (jaccard >= tipline_core.jaccard_threshold(REGION[0], smaller, cjk) - 1e-12
            or (smaller >= tipline_core.MIN_CONTAINMENT_SHINGLES
                and containment >= REGION[1] - 1e-12))


def collect(spec: str):
    """features, cjk flags and labels of a set's candidate pairs: those that
    share a band key (band_keys: the regular bands, and the extra windows of
    short texts) and reach the region"""
    texts, order, true_pairs = stream(spec)
    signatures = tipline_core.signatures(texts)
    buckets: dict[int, list[int]] = {}
    features, cjk, labels = [], [], []
    for i in order:
        seen = set()
        for key in tipline_core.band_keys(signatures[i]):
            bucket = buckets.setdefault(key, [])
            seen.update(bucket)
            bucket.append(i)
        for j in sorted(seen):
            both = signatures[i][1] == 1 and signatures[j][1] == 1
            f = tipline_core.pair_features(signatures[i], signatures[j])
            if f is None or not in_region(f, both):
                continue
            features.append(f)
            cjk.append(both)
            labels.append((min(i, j), max(i, j)) in true_pairs)
    print(f"  {spec}: {len(labels)} candidate pairs", flush=True)
    return features, cjk, labels


def trees_of(model):
    "[(nodes, ...)] per tree, and the baseline log-odds"
    return ([predictor[0].nodes for predictor in model._predictors],
            float(np.ravel(model._baseline_prediction)[0]))


def walk(trees, baseline, row):
    total = baseline
    for nodes in trees:
        i = 0
        while not nodes[i]["is_leaf"]:
            i = nodes[i]["left"] if row[nodes[i]["feature_idx"]] <= nodes[i]["num_threshold"] \
                else nodes[i]["right"]
        total += nodes[i]["value"]
    return total


def emit(name: str, model, cut: float) -> str:
    trees, baseline = trees_of(model)
    nodes, roots = [], []
    for tree in trees:
        roots.append(len(nodes))
        for node in tree:
            if node["is_leaf"]:
                nodes.append(f"{{0.0, {float(node['value'])!r}, -1, 0, 0}}")
            else:
                nodes.append(f"{{{float(node['num_threshold'])!r}, 0.0, "
                             f"{int(node['feature_idx'])}, {int(node['left'])}, "
                             f"{int(node['right'])}}}")
    logit = math.log(cut / (1 - cut))
    return (f"constexpr TreeNode k{name}Nodes[] = {{\n    " + ",\n    ".join(nodes) + "};\n"
            f"constexpr uint32_t k{name}Roots[] = {{" + ", ".join(map(str, roots)) + "};\n"
            f"constexpr Ensemble k{name}Model{{k{name}Nodes, k{name}Roots, {len(roots)}, "
            f"{baseline!r}, {logit!r}}};  // cut at p = {cut}\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=SETS)
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier

    specs = args.sets.split(",")
    print(f"collecting {len(specs)} sets", flush=True)
    with multiprocessing.Pool(min(args.jobs, len(specs))) as pool:
        parts = pool.map(collect, specs)
    features = np.array([f for p in parts for f in p[0]], dtype=np.float64)
    cjk = np.array([c for p in parts for c in p[1]])
    labels = np.array([y for p in parts for y in p[2]])
    out = ["// Written by tests/bench/train_dedup_model.py from "
           f"{args.sets}; do not edit.\n"]
    for name, select in (("Cjk", cjk), ("Other", ~cjk)):
        model = HistGradientBoostingClassifier(**PARAMS)
        model.fit(features[select], labels[select])
        trees, baseline = trees_of(model)
        mine = np.array([walk(trees, baseline, row) for row in features[select][:2000]])
        theirs = model.decision_function(features[select][:2000])
        assert np.allclose(mine, theirs, atol=1e-9), "the tree walk differs from scikit-learn"
        cut = CUT["cjk" if name == "Cjk" else "other"]
        print(f"{name}: {select.sum()} pairs ({labels[select].sum()} true), "
              f"{len(trees)} trees, cut at {cut}", flush=True)
        out.append(emit(name, model, cut))
    out.append(f"constexpr double kOwnSubstanceLogOdds = "
               f"{math.log(OWN_SUBSTANCE_CUT / (1 - OWN_SUBSTANCE_CUT))!r};  "
               f"// p = {OWN_SUBSTANCE_CUT}\n")
    with open(args.out, "w") as f:
        f.write("".join(out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
