"""Shared pieces: preprocessing as CLIP does it, dataset rendering, model loading, zero-shot scoring."""
import json
import os
import numpy as np
import torch
from PIL import Image

import bpe
import shapes
from model import CLIP

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "work")
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODEL_DIR = os.path.join(ROOT, "public", "models", "toy-clip")
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
IMAGE_SIZE = 64


def preprocess(img, size=IMAGE_SIZE):
    """CLIP's transform: resize the shorter side (bicubic), center crop, [0,1], normalize, CHW float32."""
    img = img.convert("RGB")
    w, h = img.size
    s = size / min(w, h)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    img = img.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    return normalize(np.asarray(img, dtype=np.uint8))


def normalize(u8):
    """u8: [..., H, W, 3] uint8 -> [..., 3, H, W] float32 normalized."""
    x = u8.astype(np.float32) / 255.0
    x = (x - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.moveaxis(x, -1, -3).copy()


def render_set(seed, n, style=None, allow_held_out=False, only_held_out=False):
    """n images already at model resolution (uint8 HWC, same pipeline as preprocess) with their attributes."""
    rng = np.random.default_rng(seed)
    imgs = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    attrs = []
    i = 0
    while i < n:
        a = shapes.random_attrs(rng, style=style, allow_held_out=allow_held_out or only_held_out)
        if only_held_out and (a["colour"], a["shape"]) not in shapes.HELD_OUT_COMBOS:
            continue
        img = shapes.render(rng, **a).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
        imgs[i] = np.asarray(img)
        attrs.append(a)
        i += 1
    return imgs, attrs


def load_tokenizer(path=None):
    return bpe.load_hf_json(path or os.path.join(MODEL_DIR, "tokenizer.json"))


def load_model(ckpt=None, cfg_path=None):
    ckpt = ckpt or os.environ.get("TOY_CLIP_CKPT") or os.path.join(WORK, "final.pt")
    state = torch.load(ckpt, map_location="cpu")
    model = CLIP(state["config"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, state["config"]


@torch.no_grad()
def text_features(model, tok, texts):
    ids = torch.tensor(tok.tokenize(texts))
    n = int(ids.argmax(-1).max()) + 1  # positions after the last EOS cannot reach any EOS (causal)
    f = model.encode_text(ids[:, :n])
    return f / f.norm(dim=-1, keepdim=True)


@torch.no_grad()
def image_features(model, u8, batch=256):
    out = []
    for i in range(0, len(u8), batch):
        f = model.encode_image(torch.from_numpy(normalize(u8[i:i + batch])))
        out.append(f / f.norm(dim=-1, keepdim=True))
    return torch.cat(out)


def zero_shot_acc(model, tok, feats, labels, names, template):
    w = text_features(model, tok, [template.format(n) for n in names])
    return float(((feats @ w.T).argmax(-1) == torch.tensor(labels)).float().mean())


def save_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
