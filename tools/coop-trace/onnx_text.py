"""The toy model's text tower in PyTorch (tools/toy-clip/model.py) with its weights read back from the exported
text_model.onnx, so trajectory cases need no training checkpoint. Named initializers (embeddings, layer norms,
biases) load by name; each anonymous transposed `onnx::MatMul_*` weight is identified by the MatMul node that reads
it, whose name carries the module path (/text_model/encoder/layers.0/self_attn/q_proj/MatMul → …q_proj.weight)."""
import json
import os

import numpy as np
import onnx
from onnx import numpy_helper
import torch

from model import TextModel


class TextTower(torch.nn.Module):
    """What coop.py needs of a CLIP: text_model, encode_text_embeds, logit_scale (log of the multiplier)."""

    def __init__(self, cfg, logit_scale):
        super().__init__()
        t = cfg["text_config"]
        self.text_model = TextModel(t["vocab_size"], t["hidden_size"], t["num_hidden_layers"], t["num_attention_heads"], t["max_position_embeddings"])
        self.text_projection = torch.nn.Linear(t["hidden_size"], cfg["projection_dim"], bias=False)
        self.logit_scale = torch.nn.Parameter(torch.tensor(float(np.log(logit_scale)), dtype=torch.float32))
        self.embed_dim = cfg["projection_dim"]

    def encode_text_embeds(self, x, eos_index):
        return self.text_projection(self.text_model.forward_embeds(x, eos_index)[1])


def load_text_tower(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    manifest = json.load(open(os.path.join(model_dir, "manifest.json")))
    logit_scale = float(manifest["logit_scale"])
    tower = TextTower(cfg, logit_scale)
    g = onnx.load(os.path.join(model_dir, "onnx", "text_model.onnx")).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    state = {}
    for name, arr in inits.items():
        if not name.startswith("onnx::"):
            state[name] = torch.from_numpy(arr.copy())
    for node in g.node:
        if node.op_type != "MatMul":
            continue
        w = next((i for i in node.input if i in inits), None)
        if w is None:
            continue
        module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
        state[module + ".weight"] = torch.from_numpy(inits[w].T.copy())
    missing, unexpected = tower.load_state_dict(state, strict=False)
    missing = [m for m in missing if m != "logit_scale"]
    if missing or unexpected:
        raise SystemExit(f"text_model.onnx did not fill the tower: missing {missing}, unexpected {unexpected}")
    tower.eval()
    # The logit scale as the app uses it (manifest.json, clamped at 100 as CLIP's): the tower's own parameter.
    return tower, logit_scale
