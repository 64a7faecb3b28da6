"""PyTorch's CoOp (tools/toy-clip/coop.py, the trainer behind public/samples/baselines.json) on the exact inputs the
command line trained on, to tell a trainer difference from chance.

  npm run coop -- train ... --shots 16 --seeds 1,2,3 --save-features --out OUT     # writes OUT/features/*.json
  /usr/bin/python3 tools/coop-trace/csc_check.py OUT/features/16shot-seed*.json [--csc] [--seeds 1,2,3]

For every features file (one shot count and seed: the few-shot sample's augmented views, labels and the evaluation
splits' clean features) and every torch seed, trains coop.train (same M = 16, random init, end, official schedule)
and prints the accuracy on each split, one JSON line per run, then mean ± std (numpy's, ddof 0).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "toy-clip"))

import bpe  # noqa: E402
import coop  # noqa: E402
from tower import load_tower  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features", nargs="+")
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "toy-clip"))
    ap.add_argument("--csc", action="store_true")
    ap.add_argument("--seeds", default="1,2,3", help="torch seeds per features file; 'file' = the file's own seed")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _, _ = load_tower(args.model)
    tok = bpe.load_hf_json(os.path.join(args.model, "tokenizer.json"))
    per_split = {}
    for path in args.features:
        d = json.load(open(path))
        views = torch.tensor(d["view_features"], dtype=torch.float32)
        labels = torch.tensor(d["labels"])
        file_seed = int(os.path.basename(path).split("seed")[1].split(".")[0])
        seeds = [file_seed] if args.seeds == "file" else [int(s) for s in args.seeds.split(",")]
        for seed in seeds:
            t = time.time()
            learner = coop.train(model, tok, d["classnames"], views, labels, n_ctx=16, csc=args.csc, seed=seed, epochs=args.epochs)
            res = {"features": os.path.basename(path), "torch_seed": seed, "csc": args.csc, "seconds": round(time.time() - t, 1)}
            for name, s in d["splits"].items():
                f = torch.tensor(s["features"], dtype=torch.float32)
                acc = 100 * coop.accuracy(model, learner, f, s["labels"])
                res[name] = round(acc, 2)
                per_split.setdefault(name, []).append(acc)
            print(json.dumps(res), flush=True)
    print(json.dumps({k: {"mean": round(float(np.mean(v)), 2), "std": round(float(np.std(v)), 2), "n": len(v)} for k, v in per_split.items()}))


if __name__ == "__main__":
    main()
