"""Trajectory-parity cases for `npm run -s coop:trace`: a CoOp run in PyTorch with the original's semantics.

/usr/bin/python3 tools/coop-trace/trace.py [--csc] [--out tests/fixtures/coop-trace-unified.json] [--epochs 8] ...

Writes one JSON file holding the case (class names, n_ctx, csc, position, initial ctx, image features, labels, the
exact batches of every epoch, the optimizer settings) and PyTorch's trajectory under "expected":
{"loss": [per step], "lr": [per step], "ctx": [flat, after each epoch]}.

The original's semantics (KaiyangZhou/CoOp trainers/coop.py + configs/trainers/CoOp, Dassl.pytorch):
- only the context is trained: torch.optim.SGD(momentum 0.9, weight_decay 5e-4, dampening 0, no Nesterov);
- the lr is Dassl's ConstantWarmupScheduler (warmup_lr for WARMUP_EPOCH epochs, WARMUP_RECOUNT on) wrapped around
  torch's CosineAnnealingLR(T_max = max_epoch), stepped once per epoch after the epoch's batches;
- the loss is cross-entropy of logit_scale · cos(image, text) with the scale clamped at 100;
- prompts are PromptLearner's (tools/toy-clip/coop.py: "X X … X name." tokenized, context in place of the Xs).
The toy model's text tower is tools/toy-clip/model.py with weights read from public/models/toy-clip's ONNX file.
"""
import argparse
import json
import math
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

DEFAULT_CLASSES = ["disc", "box", "wedge", "sparkle", "plus"]


def f32_round(v):
    if isinstance(v, float):
        return float("%.9g" % v)
    if isinstance(v, list):
        return [f32_round(x) for x in v]
    if isinstance(v, dict):
        return {k: (x if k in ("lr", "warmup_lr", "weight_decay", "momentum", "logit_scale") else f32_round(x)) for k, x in v.items()}
    return v


def make_batches(rng, n, batch, epochs):
    """Dassl's train loader: a fresh random order each epoch, the last partial batch dropped when there is a full one."""
    nb = n // batch if n >= batch else 1
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out.append([order[b * batch:(b + 1) * batch].tolist() for b in range(nb)])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "public", "models", "toy-clip"))
    ap.add_argument("--csc", action="store_true")
    ap.add_argument("--position", default="end", choices=["end", "middle", "front"])
    ap.add_argument("--classes", default=",".join(DEFAULT_CLASSES))
    ap.add_argument("--n-ctx", type=int, default=4)
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--max-epoch", type=int, default=None, help="the schedule's length (default: --epochs)")
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--warmup-epochs", type=int, default=1)
    ap.add_argument("--warmup-lr", type=float, default=1e-5)
    ap.add_argument("--features", default=None, help="optional JSON {image_features, labels} (e.g. real cached features)")
    ap.add_argument("--init", default=None, help="optional JSON with a flat 'ctx' to start from")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, cfg, logit_scale = load_tower(args.model)
    # Seeded after the tower is built: building it draws (random init of the unused image tower) from torch's generator.
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    tok = bpe.load_hf_json(os.path.join(args.model, "tokenizer.json"))
    names = args.classes.split(",")
    k = len(names)
    if args.features:
        src = json.load(open(args.features))
        feats = torch.tensor(src["image_features"], dtype=torch.float32)
        labels = torch.tensor(src["labels"], dtype=torch.long)
    else:
        feats = torch.randn(args.images, cfg["projection_dim"])
        labels = torch.as_tensor(rng.integers(0, k, size=args.images))
    feats = feats / feats.norm(dim=-1, keepdim=True)
    n = feats.shape[0]
    max_epoch = args.max_epoch or args.epochs
    batches = make_batches(rng, n, args.batch, args.epochs)

    learner = coop.PromptLearner(model, tok, names, n_ctx=args.n_ctx, csc=args.csc, position=args.position, seed=args.seed)
    if args.init:
        with torch.no_grad():
            learner.ctx.copy_(torch.tensor(json.load(open(args.init))["ctx"], dtype=torch.float32).reshape(learner.ctx.shape))
    ctx0 = learner.ctx.detach().clone()
    for p in model.parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD([learner.ctx], lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, float(max_epoch))
    sched = ConstantWarmup(opt, cosine, args.warmup_epochs, args.warmup_lr) if args.warmup_epochs > 0 else cosine

    losses, lrs, ctxs = [], [], []
    for epoch in range(args.epochs):
        for idx in batches[epoch]:
            _, loss = coop.logits_and_loss(model, learner, feats[idx], labels[idx])
            opt.zero_grad()
            loss.backward()
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            losses.append(float(loss))
        sched.step()
        ctxs.append(learner.ctx.detach().numpy().ravel().tolist())

    case = {
        "classnames": names, "n_ctx": args.n_ctx, "csc": args.csc, "position": args.position,
        "logit_scale": logit_scale,
        "ctx": ctx0.numpy().ravel().tolist(),
        "image_features": feats.numpy().tolist(), "labels": labels.tolist(),
        "epochs": batches,
        "optim": {"lr": args.lr, "momentum": args.momentum, "weight_decay": args.weight_decay,
                  "warmup_epochs": args.warmup_epochs, "warmup_lr": args.warmup_lr, "max_epoch": max_epoch},
        "expected": {"loss": losses, "lr": lrs, "ctx": ctxs, "source": "PyTorch " + torch.__version__ + ", tools/coop-trace/trace.py"},
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        # Nine significant digits read back as the same float32: the fixture stays small and loses nothing.
        json.dump(f32_round(case), f, separators=(",", ":"))
    moved = float((torch.tensor(ctxs[-1]) - ctx0.ravel()).abs().max())
    print(f"{args.out}: {len(losses)} steps over {args.epochs} epochs; final loss {losses[-1]:.5f}; ctx moved up to {moved:.3e}")


if __name__ == "__main__":
    main()
