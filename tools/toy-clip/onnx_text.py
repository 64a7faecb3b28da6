"""The toy CLIP's PyTorch text tower rebuilt from the committed ONNX export (public/models/toy-clip), for reference
dumps on a clean clone, where the pretraining checkpoint (work/final.pt, not committed) is absent.

Named initializers load by name; the anonymous MatMul weights are matched through their node names
(/text_model/encoder/layers.N/self_attn/q_proj/MatMul, ...), stored [in, out] (x @ W), i.e. Linear.weight transposed.
The image tower stays at its random initialisation: only the text side is used.
"""
import json
import math
import os
import numpy as np
import onnx
from onnx import numpy_helper
import torch

from common import MODEL_DIR, WORK, load_model, load_tokenizer
from model import CLIP


def load_text_model_from_onnx(model_dir=MODEL_DIR):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(model_dir, "manifest.json")) as f:
        manifest = json.load(f)
    g = onnx.load(os.path.join(model_dir, "onnx", "text_model.onnx")).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    model = CLIP(cfg)
    state = {}
    for name, arr in inits.items():
        if name.startswith("text_model."):
            state[name] = torch.from_numpy(arr.copy())
    for node in g.node:
        if node.op_type != "MatMul":
            continue
        w = next((inits[x] for x in node.input if x in inits), None)
        if w is None:
            continue
        path = node.name.strip("/").split("/")[:-1]  # e.g. text_model encoder layers.0 self_attn q_proj
        key = ".".join(path) + ".weight"
        state[key] = torch.from_numpy(w.T.copy())
    missing, unexpected = model.load_state_dict(state, strict=False)
    text_missing = [m for m in missing if m.startswith("text") and "vision" not in m]
    assert not text_missing and not unexpected, (text_missing, unexpected)
    with torch.no_grad():
        model.logit_scale.copy_(torch.tensor(math.log(manifest["logit_scale"])))
    model.eval()
    return model, cfg


def load_model_or_onnx():
    """The pretraining checkpoint when present (it is what export.py wrote), else the ONNX export."""
    if os.environ.get("TOY_CLIP_CKPT") or os.path.exists(os.path.join(WORK, "final.pt")):
        return load_model()
    return load_text_model_from_onnx()


def frozen_model_and_tokenizer():
    """What every reference dump starts from: the model (load_model_or_onnx) with its parameters frozen, its config,
    and the tokenizer, on two threads."""
    torch.set_num_threads(2)
    model, cfg = load_model_or_onnx()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, cfg, load_tokenizer()
