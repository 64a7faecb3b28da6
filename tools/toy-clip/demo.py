"""Demo task for the playground, and the numbers the browser must meet.

/usr/bin/python3 demo.py [--render] [--seeds 3]
--render writes public/samples/ (train 16/class, test, shifted test in the held-out outline style, index.json);
then zero-shot, prompt ensembling, a linear probe and CoOp (unified and CSC, M=16, end) at 1/2/4/8/16 shots are
measured on the test and shifted splits from the committed image files, and written to public/samples/baselines.json.
"""
import argparse
import json
import os
import time
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import coop
import shapes
from common import ROOT, WORK, MODEL_DIR, IMAGE_SIZE, preprocess, load_model, load_tokenizer, text_features, save_json

SAMPLES = os.path.join(ROOT, "public", "samples")
# The demo's class names are the user's own words for the shapes (a sticker shop's catalogue), not the words
# the model's captions used: hand-written prompts then match poorly, and learned context has room to help.
DEMO_CLASSES = json.loads(os.environ.get("DEMO_CLASSES", "null")) or [
    ["disc", "circle"], ["box", "square"], ["wedge", "triangle"], ["sparkle", "star"],
    ["plus", "cross"], ["donut", "ring"], ["valentine", "heart"], ["kite", "diamond"],
]
SPLITS = {"train": (16, "filled", 11), "test": (25, "filled", 12), "shifted": (25, "outline", 13)}
TEMPLATES = ["a photo of a {}.", "a {}.", "a picture of a {}.", "a photo of a small {}.", "a photo of a large {}.",
             "a {} on a striped background.", "an outline drawing of a {}.", "a close photo of one {}."]
SHOTS = [1, 2, 4, 8, 16]
VIEWS = 8


def render():
    if os.path.isdir(SAMPLES):
        for dp, _, fs in os.walk(SAMPLES):
            for f in fs:
                if f.endswith(".jpg"):
                    os.remove(os.path.join(dp, f))
    index = {"name": "Shape stickers", "description": "Eight sticker shapes named with a shop's own words. "
             "Train and test are filled stickers; 'shifted' holds outline drawings, a style whose shapes the model "
             "never saw named during pretraining.", "classes": [c for c, _ in DEMO_CLASSES], "splits": {}}
    for split, (per_class, style, seed) in SPLITS.items():
        rng = np.random.default_rng(seed)
        items = []
        for ci, (name, shape) in enumerate(DEMO_CLASSES):
            os.makedirs(os.path.join(SAMPLES, split, name), exist_ok=True)
            for k in range(per_class):
                a = shapes.random_attrs(rng, style=style, allow_held_out=True)
                a["shape"] = shape
                rel = f"{split}/{name}/{k:03d}.jpg"
                shapes.render(rng, **a).save(os.path.join(SAMPLES, rel), quality=92)
                items.append({"file": rel, "label": ci})
        index["splits"][split] = items
    save_json(os.path.join(SAMPLES, "index.json"), index)


def random_resized_crop(rng, img, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop (bicubic) followed by a random horizontal flip, as Dassl's train transform."""
    w, h = img.size
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        ar = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        cw, ch = int(round(np.sqrt(target * ar))), int(round(np.sqrt(target / ar)))
        if 0 < cw <= w and 0 < ch <= h:
            x, y = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
            break
    else:
        cw, ch = min(w, h), min(w, h)
        x, y = (w - cw) // 2, (h - ch) // 2
    out = img.crop((x, y, x + cw, y + ch)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    return out.transpose(Image.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else out


@torch.no_grad()
def encode(model, arrays):
    f = model.encode_image(torch.from_numpy(np.stack(arrays)))
    return f / f.norm(dim=-1, keepdim=True)


def load_split(model, index, split, views=0, seed=0):
    items = index["splits"][split]
    imgs = [Image.open(os.path.join(SAMPLES, it["file"])).convert("RGB") for it in items]
    labels = torch.tensor([it["label"] for it in items])
    feats = encode(model, [preprocess(im) for im in imgs])
    if not views:
        return feats, labels
    rng = np.random.default_rng(seed)
    from common import normalize
    vf = [encode(model, [normalize(np.asarray(random_resized_crop(rng, im))) for _ in range(views)]) for im in imgs]
    return feats, labels, torch.stack(vf)


def ensemble_weights(model, tok, names):
    ws = torch.stack([text_features(model, tok, [t.format(n) for n in names]) for t in TEMPLATES])
    w = ws.mean(0)
    return w / w.norm(dim=-1, keepdim=True)


def linear_probe(train_f, train_y, k, lambdas=(1e-4, 1e-3, 1e-2, 1e-1)):
    """Multinomial logistic regression on normalized features (L-BFGS), L2 weight picked by 2-fold CV."""
    def fit(x, y, lam):
        W = torch.zeros(x.shape[1], k, requires_grad=True)
        b = torch.zeros(k, requires_grad=True)
        opt = torch.optim.LBFGS([W, b], lr=1, max_iter=200, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(x @ W * 10 + b, y) + lam * (W ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return lambda z: (z @ W * 10 + b).detach()

    best = 1e-3
    if len(train_y) >= 2 * k:
        order = torch.arange(len(train_y))
        fold = torch.zeros(len(train_y), dtype=torch.bool)
        for c in range(k):
            idx = order[train_y == c]
            fold[idx[::2]] = True
        scores = []
        for lam in lambdas:
            acc = 0.0
            for a, b_ in ((fold, ~fold), (~fold, fold)):
                f = fit(train_f[a], train_y[a], lam)
                acc += float((f(train_f[b_]).argmax(-1) == train_y[b_]).float().mean())
            scores.append(acc)
        best = lambdas[int(np.argmax(scores))]
    return fit(train_f, train_y, best), best


def acc(scores, y):
    return round(100 * float((scores.argmax(-1) == y).float().mean()), 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(SAMPLES, "baselines.json"))
    args = ap.parse_args()
    # One thread: under load from other processes, two OpenMP threads spend most of their time waiting on each other.
    torch.set_num_threads(1)
    if args.render:
        render()
    model, cfg = load_model()
    tok = load_tokenizer()
    index = json.load(open(os.path.join(SAMPLES, "index.json")))
    names = index["classes"]
    k = len(names)
    train_f, train_y, train_views = load_split(model, index, "train", views=VIEWS)
    evals = {s: load_split(model, index, s) for s in ("test", "shifted")}
    # The model these numbers are for: the app shows them only beside runs of that model (id and text weights).
    manifest = json.load(open(os.path.join(MODEL_DIR, "manifest.json")))
    res = {"model": {"id": manifest["id"], "text_model_sha256": manifest["text_model_sha256"]},
           "classes": names, "true_shapes": [s for _, s in DEMO_CLASSES], "views": VIEWS, "seeds": args.seeds,
           "templates": TEMPLATES, "zero_shot_template": TEMPLATES[0], "results": {}}
    w0 = text_features(model, tok, [TEMPLATES[0].format(n) for n in names])
    we = ensemble_weights(model, tok, names)
    wt = text_features(model, tok, [TEMPLATES[0].format(s) for _, s in DEMO_CLASSES])
    for split, (f, y) in evals.items():
        r = res["results"].setdefault(split, {})
        r["zero_shot"] = acc(f @ w0.T, y)
        r["ensemble"] = acc(f @ we.T, y)
        r["zero_shot_with_caption_words"] = acc(f @ wt.T, y)
    for shots in SHOTS:
        sel = torch.cat([torch.nonzero(train_y == c)[:shots, 0] for c in range(k)])
        probe, lam = linear_probe(train_f[sel], train_y[sel], k)
        for split, (f, y) in evals.items():
            res["results"][split].setdefault("linear_probe", {})[str(shots)] = acc(probe(f), y)
        for csc in (False, True):
            key = "coop_csc" if csc else "coop_unified"
            per_seed = {s: [] for s in evals}
            t0 = time.time()
            for seed in range(1, args.seeds + 1):
                learner = coop.train(model, tok, names, train_views[sel], train_y[sel], n_ctx=16, csc=csc, seed=seed)
                for split, (f, y) in evals.items():
                    per_seed[split].append(100 * coop.accuracy(model, learner, f, y))
            for split in evals:
                res["results"][split].setdefault(key, {})[str(shots)] = {
                    "mean": round(float(np.mean(per_seed[split])), 2), "std": round(float(np.std(per_seed[split])), 2)}
            print(f"{shots} shots {key}: " + ", ".join(f"{s} {np.mean(v):.1f}" for s, v in per_seed.items()) +
                  f" (lp lambda {lam}, {time.time() - t0:.0f}s)", flush=True)
    save_json(args.out, res)
    print(json.dumps(res["results"], indent=1))


if __name__ == "__main__":
    main()
