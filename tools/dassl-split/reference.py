"""Reference values from Python's own `random` (CPython 3.11, stdlib only) for the command line's reimplementation.

Writes two fixtures into tests/fixtures/dassl-split/:

  random.json   MT19937 outputs after random.seed(int) for many seeds (small, large, negative, beyond 64 bits),
                getrandbits(k), random(), _randbelow(n), sample(range(n), k) in both of its branches, choices,
                and CPython's set-size threshold between sample's branches.
  splits.json   three small synthetic datasets in CoOp's layout (split_zhou JSON, FGVC's txt files, ImageNet's
                classnames.txt and class folders) and, for shots x seeds x subsample, the rows Dassl's
                DatasetBase.generate_fewshot_dataset (train with K shots, val with min(K, 4)) and CoOp's
                OxfordPets.subsample_classes give, after random.seed(seed) as Dassl's set_random_seed does.

The sampling below restates Dassl's and CoOp's rules (read in their sources) in a few lines; the draws are
Python's. tests/cli/python-random.test.ts and tests/cli/split.test.ts compare against these files and need no
Python. Run: python3 tools/dassl-split/reference.py
"""
import json
import math
import os
import random
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "dassl-split")

SEEDS = [0, 1, 2, 3, 5, 42, 12345, 2**31 - 1, 2**32, 2**32 + 5, 2**40 + 7, 2**64 + 1, -1, -7]


def random_cases():
    cases = []
    for s in SEEDS:
        r = random.Random(s)
        cases.append({"seed": s, "op": "uint32", "args": [12], "result": [r.getrandbits(32) for _ in range(12)]})
        # Past the first 624 outputs the state is regenerated: check the twist too.
        r = random.Random(s)
        for _ in range(700):
            r.getrandbits(32)
        cases.append({"seed": s, "op": "uint32_after", "args": [700, 3], "result": [r.getrandbits(32) for _ in range(3)]})
    for s in [1, 2, 42]:
        for k in [0, 1, 5, 17, 31, 32, 33, 48, 53]:
            r = random.Random(s)
            cases.append({"seed": s, "op": "getrandbits", "args": [k], "result": [r.getrandbits(k) for _ in range(5)]})
        r = random.Random(s)
        cases.append({"seed": s, "op": "random", "args": [6], "result": [r.random() for _ in range(6)]})
        for n in [1, 2, 3, 7, 100, 1000, 2**31 + 1, 2**32 - 1]:
            r = random.Random(s)
            cases.append({"seed": s, "op": "randbelow", "args": [n], "result": [r._randbelow(n) for _ in range(8)]})
    # (n, k) on both sides of the threshold: pool branch when n <= setsize(k), set branch otherwise.
    pairs = [(1, 1), (5, 5), (10, 3), (21, 5), (22, 5), (30, 3), (26, 6), (27, 6), (80, 16), (85, 16), (86, 16),
             (100, 16), (500, 4), (1000, 100), (50, 50), (341, 22), (342, 22)]
    for s in [1, 2, 3, 7]:
        for n, k in pairs:
            r = random.Random(s)
            cases.append({"seed": s, "op": "sample", "args": [n, k], "result": r.sample(range(n), k)})
        for n, k in [(1, 3), (3, 16), (7, 4), (1000, 5)]:
            r = random.Random(s)
            cases.append({"seed": s, "op": "choices", "args": [n, k], "result": r.choices(range(n), k=k)})
    setsize = {}
    for k in range(0, 2000):
        v = 21
        if k > 5:
            v += 4 ** math.ceil(math.log(k * 3, 4))
        setsize[k] = v
    return {"python": sys.version.split()[0], "cases": cases, "setsize": setsize}


# --- synthetic datasets in CoOp's layout -------------------------------------------------------------------------

def interleave(counts, names, path_of):
    """Items of every class, classes interleaved (a split file need not be grouped), label order not first-seen."""
    order = [3, 0, 5, 1, 7, 2, 6, 4][: len(counts)]
    left = {c: list(range(counts[c])) for c in order}
    rows = []
    while any(left.values()):
        for c in order:
            if left[c]:
                i = left[c].pop(0)
                rows.append([path_of(c, i), c, names[c]])
    return rows


def dtd_like():
    names = ["banded", "blotchy", "braided", "bubbly", "bumpy", "chequered", "cobwebbed", "cracked"]
    folder = lambda c: names[c]
    train = interleave([1, 2, 3, 5, 8, 13, 30, 90], names, lambda c, i: f"{folder(c)}/{folder(c)}_{i:04d}.jpg")
    val = interleave([1, 2, 4, 5, 3, 6, 2, 9], names, lambda c, i: f"{folder(c)}/{folder(c)}_v{i:04d}.jpg")
    test = interleave([2, 2, 2, 2, 2, 2, 2, 2], names, lambda c, i: f"{folder(c)}/{folder(c)}_t{i:04d}.jpg")
    return {"dataset": "dtd", "split": {"train": train, "val": val, "test": test}}


def fgvc_like():
    variants = ["707-320", "727-200", "A300B4", "BAE 146-200", "Boeing 717", "C-130"]
    files = {}
    rows = {}
    img = 1000000
    for split, counts in [("train", [4, 1, 7, 20, 3, 2]), ("val", [2, 1, 3, 1, 5, 2]), ("test", [1, 1, 1, 1, 1, 1])]:
        lines, items = [], []
        for c, v in enumerate(variants):
            for _ in range(counts[c]):
                img += 7
                lines.append(f"{img:07d} {v}")
        # The official files are sorted by image id, which mixes classes: shuffle deterministically.
        lines = [lines[(i * 5) % len(lines)] for i in range(len(lines))] if len(lines) % 5 else lines
        for line in lines:
            parts = line.split(" ")
            items.append([parts[0] + ".jpg", variants.index(" ".join(parts[1:])), " ".join(parts[1:])])
        files[f"images_variant_{split}.txt"] = "\n".join(lines) + "\n"
        rows[split] = items
    files["variants.txt"] = "\n".join(variants) + "\n"
    return {"dataset": "fgvc_aircraft", "files": files, "split": rows}


def imagenet_like():
    wnids = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475"]
    cnames = ["tench", "goldfish", "great white shark", "tiger shark", "hammerhead shark"]
    # classnames.txt lists more classes than the folders hold (as the 1000-line file does for a subset).
    lines = [f"{w} {n}" for w, n in zip(wnids, cnames)] + ["n01496331 electric ray"]
    counts = {"train": [9, 3, 17, 1, 4], "val": [2, 2, 2, 2, 2]}
    tree = {}
    rows = {}
    for split in ["train", "val"]:
        items = []
        tree[split] = {}
        # Folders in sorted order get labels 0..; files sorted (Dassl lists them unsorted: file-system order).
        for label, w in enumerate(sorted(wnids)):
            files = sorted(f"{w}_{(i * 37) % 101:05d}.JPEG" for i in range(counts[split][wnids.index(w)]))
            tree[split][w] = files
            items.extend([f"{split}/{w}/{f}", label, cnames[wnids.index(w)]] for f in files)
        rows[split] = items
    return {"dataset": "imagenet", "classnames": "\n".join(lines) + "\n", "tree": tree,
            "split": {"train": rows["train"], "val": rows["val"], "test": rows["val"]}}


def fewshot(items, k):
    groups = {}
    for it in items:
        groups.setdefault(it[1], []).append(it)
    out = []
    for g in groups.values():
        out.extend(random.sample(g, k) if len(g) >= k else random.choices(g, k=k))
    return out


def subsample(splits, which):
    if which == "all":
        return splits
    labels = sorted({it[1] for it in splits[0]})
    m = math.ceil(len(labels) / 2)
    selected = labels[:m] if which == "base" else labels[m:]
    relabel = {y: i for i, y in enumerate(selected)}
    return [[[it[0], relabel[it[1]], it[2]] for it in s if it[1] in relabel] for s in splits]


def draws(ds):
    out = []
    imagenet = ds["dataset"] == "imagenet"
    for shots in [1, 2, 4, 8, 16]:
        for seed in [1, 2, 3]:
            for which in ["all", "base", "new"]:
                if which != "all" and shots not in (4, 16):
                    continue
                random.seed(seed)
                train = fewshot(ds["split"]["train"], shots)
                # ImageNet draws no few-shot val: Dassl's ImageNet uses the test set (its val images) as val.
                val = ds["split"]["test"] if imagenet else fewshot(ds["split"]["val"], min(shots, 4))
                test = ds["split"]["test"]
                train, val, test = subsample([train, val, test], which)
                out.append({"shots": shots, "seed": seed, "subsample": which, "train": train, "val": val, "test": test})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "random.json"), "w") as f:
        json.dump(random_cases(), f, separators=(",", ":"))
    datasets = [dtd_like(), fgvc_like(), imagenet_like()]
    for ds in datasets:
        ds["draws"] = draws(ds)
    with open(os.path.join(OUT, "splits.json"), "w") as f:
        json.dump({"python": sys.version.split()[0], "datasets": datasets}, f, separators=(",", ":"))
    print(f"wrote {OUT}/random.json and splits.json (Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
