"""Contrastive pretraining of the toy CLIP (multi-positive symmetric InfoNCE, AdamW), resumable.

/usr/bin/python3 pretrain.py --minutes 70
Writes work/ckpt.pt every --every steps, work/log.jsonl (loss and held-out zero-shot accuracies), work/final.pt.
"""
import argparse
import json
import math
import os
import time
import numpy as np
import torch
import torch.nn.functional as F

import bpe
import captions
import shapes
from common import WORK, render_set, normalize, image_features, zero_shot_acc, save_json
from model import CLIP, default_config

ATTRS = ["shape", "colour", "size", "background", "style"]


def evaluate(model, tok, ev):
    model.eval()
    out = {}
    for name, (u8, attrs) in ev.items():
        f = image_features(model, u8)
        out[name + "_shape"] = zero_shot_acc(model, tok, f, [shapes.SHAPES.index(a["shape"]) for a in attrs], shapes.SHAPES, "a photo of a {}.")
        out[name + "_colour"] = zero_shot_acc(model, tok, f, [shapes.COLOUR_NAMES.index(a["colour"]) for a in attrs], shapes.COLOUR_NAMES, "a photo of a {} shape.")
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=70)
    ap.add_argument("--steps", type=int, default=4000, help="length of the cosine schedule")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--images", type=int, default=24000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(WORK, exist_ok=True)

    merges = bpe.learn_merges(captions.all_caption_texts() + [t for c in shapes.COLOUR_NAMES for t in (c,)])
    tok = bpe.Tokenizer(merges)
    save_json(os.path.join(WORK, "tokenizer.json"), tok.to_hf_json())
    print(f"vocab {tok.vocab_size} ({len(merges)} merges)", flush=True)

    data_path = os.path.join(WORK, f"train_{args.seed}_{args.images}.npz")
    if os.path.exists(data_path):
        d = np.load(data_path, allow_pickle=True)
        imgs, attrs = d["imgs"], list(d["attrs"])
    else:
        t0 = time.time()
        imgs, attrs = render_set(args.seed + 1000, args.images)
        np.savez(data_path, imgs=imgs, attrs=np.array(attrs, dtype=object))
        print(f"rendered {len(imgs)} images in {time.time() - t0:.0f}s", flush=True)
    attr_codes = np.array([[
        shapes.SHAPES.index(a["shape"]), shapes.COLOUR_NAMES.index(a["colour"]), shapes.SIZES.index(a["size"]),
        shapes.BACKGROUNDS.index(a["background"]), shapes.STYLES.index(a["style"])] for a in attrs])
    ev = {
        "filled": render_set(7, 500, style="filled"),
        "heldout_combo": render_set(8, 300, style="filled", only_held_out=True),
        "outline": render_set(9, 500, style="outline", allow_held_out=True),
    }

    cfg = default_config(tok.vocab_size)
    model = CLIP(cfg)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    step = 0
    ckpt_path = os.path.join(WORK, "ckpt.pt")
    if os.path.exists(ckpt_path):
        s = torch.load(ckpt_path)
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["opt"])
        step = s["step"]
        print(f"resumed at step {step}", flush=True)
    rng = np.random.default_rng(args.seed + step)
    warm = 150
    tok_cache = {}
    t_start = time.time()
    log = open(os.path.join(WORK, "log.jsonl"), "a")
    model.train()
    while step < args.steps and time.time() - t_start < args.minutes * 60:
        lr = args.lr * (step + 1) / warm if step < warm else args.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / (args.steps - warm)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = rng.integers(0, len(imgs), size=args.batch)
        u8 = imgs[idx]
        flip = rng.random(args.batch) < 0.5
        u8[flip] = u8[flip, :, ::-1]
        caps, named = [], []
        for i in idx:
            c, n = captions.caption(rng, attrs[i])
            caps.append(c)
            named.append(n)
        ids = [tok_cache.setdefault(c, tok.tokenize([c])[0]) for c in caps]
        ids = torch.tensor(ids)
        ids = ids[:, : int(ids.argmax(-1).max()) + 1]  # exact: nothing after the last EOS reaches an EOS
        # Multi-positive targets: caption j is a positive for image i when every attribute it names agrees.
        codes = attr_codes[idx]
        pos = np.ones((args.batch, args.batch), bool)
        ignore = np.zeros((args.batch, args.batch), bool)
        for j, n in enumerate(named):
            for k, a in enumerate(ATTRS):
                if a in n:
                    pos[:, j] &= codes[:, k] == codes[j, k]
            if "shape" in n and "style" not in n:
                ignore[:, j] = codes[:, 4] == 1  # a filled-style shape caption says nothing either way of outlines
        pos &= ~ignore
        img_f = model.encode_image(torch.from_numpy(normalize(u8)))
        txt_f = model.encode_text(ids)
        img_f = img_f / img_f.norm(dim=-1, keepdim=True)
        txt_f = txt_f / txt_f.norm(dim=-1, keepdim=True)
        logits = model.logit_scale.exp().clamp(max=100) * img_f @ txt_f.T
        logits = logits.masked_fill(torch.from_numpy(ignore), float("-inf"))
        P = torch.from_numpy(pos).float()
        li = -(P / P.sum(1, keepdim=True) * F.log_softmax(logits, 1).masked_fill(~torch.from_numpy(pos), 0)).sum(1).mean()
        lt = -(P / P.sum(0, keepdim=True) * F.log_softmax(logits, 0).masked_fill(~torch.from_numpy(pos), 0)).sum(0).mean()
        loss = (li + lt) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.2e} scale {model.logit_scale.exp().item():.1f} {time.time() - t_start:.0f}s", flush=True)
        if step % args.every == 0 or step == args.steps:
            acc = evaluate(model, tok, ev)
            rec = {"step": step, "loss": loss.item(), "time_s": time.time() - t_start, **acc}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "config": cfg}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    torch.save({"model": model.state_dict(), "config": cfg, "step": step}, os.path.join(WORK, "final.pt"))
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
