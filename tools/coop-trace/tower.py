"""The toy CLIP with its text tower rebuilt from the committed ONNX export (tools/toy-clip/onnx_text.py, shared with
the method dumps), and the logit scale the app uses (manifest.json's multiplier, clamped at 100 by coop.py)."""
import json
import os

from onnx_text import load_text_model_from_onnx


def load_tower(model_dir):
    model, cfg = load_text_model_from_onnx(model_dir)
    scale = float(json.load(open(os.path.join(model_dir, "manifest.json")))["logit_scale"])
    return model, cfg, scale
