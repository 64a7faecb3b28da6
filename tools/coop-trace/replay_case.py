"""A trajectory case that replays tools/toy-clip/coop.train(seed) exactly: its own context init (torch generator
seeded with `seed`) and its own batches and view draws (numpy default_rng(seed)), over features encoded by
encode-pixels.ts from demo_views.py's pixels. `npm run -s coop:trace` then runs OUR trainer over PyTorch's exact
inputs; `--eval` scores a trajectory's final context on the clean test and shifted features.

/usr/bin/python3 tools/coop-trace/replay_case.py --dir DIR --seed 1 [--csc] --out case.json
npm run -s coop:trace -- --model public/models/toy-clip --case case.json > ours.json
/usr/bin/python3 tools/coop-trace/replay_case.py --dir DIR --seed 1 [--csc] --eval ours.json
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "toy-clip"))

import bpe  # noqa: E402
import coop  # noqa: E402
from dassl_sched import ConstantWarmup  # noqa: E402
from tower import load_tower  # noqa: E402


def load(dir_):
    meta = json.load(open(os.path.join(dir_, "pixels.json")))
    feats = np.fromfile(os.path.join(dir_, "features.bin"), dtype=np.float32).reshape(meta["shape"][0], -1)
    parts, o = {}, 0
    for p in meta["parts"]:
        parts[p["name"]] = (feats[o:o + p["rows"]], np.array(p["labels"]))
        o += p["rows"]
    return meta, parts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "toy-clip"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csc", action="store_true")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out")
    ap.add_argument("--eval", help="a coop:trace output to score")
    ap.add_argument("--torch", action="store_true", help="train coop.train(seed) itself on these features and score it (demo.py's run)")
    ap.add_argument("--expect", type=int, default=0, help="keep the first N epochs and add PyTorch's trajectory over them")
    args = ap.parse_args()
    meta, parts = load(args.dir)
    names, V = meta["classes"], meta["views"]
    views, img_labels = parts["train_views"]
    n = len(img_labels)
    model, _, scale = load_tower(args.model)
    tok = bpe.load_hf_json(os.path.join(args.model, "tokenizer.json"))
    learner = coop.PromptLearner(model, tok, names, n_ctx=16, csc=args.csc, position="end", seed=args.seed)
    def score(lrn):
        res = {}
        for split in ("test", "shifted"):
            f, y = parts[f"{split}_clean"]
            res[split] = round(100 * coop.accuracy(model, lrn, torch.from_numpy(f.copy()), y), 2)
        return res

    if args.eval:
        ctx = json.load(open(args.eval))["ctx"][-1]
        with torch.no_grad():
            learner.ctx.copy_(torch.tensor(ctx, dtype=torch.float32).reshape(learner.ctx.shape))
        print(json.dumps({"seed": args.seed, "csc": args.csc, "trainer": "ours (coop:trace)", **score(learner)}))
        return
    if args.torch:
        torch.set_num_threads(1)
        trained = coop.train(model, tok, names, torch.from_numpy(views.reshape(n, V, -1).copy()), torch.as_tensor(img_labels), n_ctx=16, csc=args.csc, seed=args.seed)
        print(json.dumps({"seed": args.seed, "csc": args.csc, "trainer": "PyTorch coop.train", **score(trained)}), flush=True)
        return
    epochs = coop.epochs_for_shots(n // len(names))
    rng = np.random.default_rng(args.seed)  # as coop.train: one generator for the order and the view draws
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n)
        draw = rng.integers(0, V, size=n)
        nb = n // args.batch if n >= args.batch else 1
        batches.append([[int(i) * V + int(draw[i]) for i in order[b * args.batch:(b + 1) * args.batch]] for b in range(nb)])
    if args.expect:
        # PyTorch over the first N epochs of exactly these batches, as trace.py runs a case.
        batches = batches[:args.expect]
        feats = torch.from_numpy(views.copy())
        row_labels = torch.as_tensor(np.repeat(img_labels, V))
        ctx0 = learner.ctx.detach().clone()
        for p in model.parameters():
            p.requires_grad_(False)
        opt = torch.optim.SGD([learner.ctx], lr=0.002, momentum=0.9, weight_decay=5e-4)
        sched = ConstantWarmup(opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, float(epochs)), 1, 1e-5)
        losses, lrs, ctxs = [], [], []
        for ep in batches:
            for idx in ep:
                _, loss = coop.logits_and_loss(model, learner, feats[idx], row_labels[idx])
                opt.zero_grad()
                loss.backward()
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()
                losses.append(float(loss))
            sched.step()
            ctxs.append(learner.ctx.detach().numpy().ravel().tolist())
        with torch.no_grad():
            learner.ctx.copy_(ctx0)
    case = {
        "classnames": names, "n_ctx": 16, "csc": args.csc, "position": "end", "logit_scale": scale,
        "ctx": learner.ctx.detach().numpy().ravel().tolist(),
        "image_features": views.tolist(), "labels": np.repeat(img_labels, V).tolist(),
        "epochs": batches,
        "optim": {"lr": 0.002, "momentum": 0.9, "weight_decay": 5e-4, "warmup_epochs": 1, "warmup_lr": 1e-5, "max_epoch": epochs},
    }
    if args.expect:
        case["expected"] = {"loss": losses, "lr": lrs, "ctx": ctxs}
    json.dump(case, open(args.out, "w"))
    print(f"{args.out}: {epochs} epochs × {len(batches[0])} batches over {n} images × {V} views")


if __name__ == "__main__":
    main()
