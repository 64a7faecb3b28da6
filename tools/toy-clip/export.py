"""Export the pretrained toy CLIP to public/models/toy-clip/ in the transformers.js layout.

/usr/bin/python3 export.py [--ckpt work/final.pt]
Writes onnx/text_model.onnx, onnx/vision_model.onnx, tokenizer.json, config.json, preprocessor_config.json,
manifest.json, and tests/fixtures/toy-clip-io/ (inputs and PyTorch outputs for the onnxruntime check).
"""
import argparse
import hashlib
import json
import os
import shutil
import numpy as np
import torch

from common import MODEL_DIR, ROOT, WORK, IMAGE_SIZE, MEAN, STD, load_model, load_tokenizer, render_set, normalize, save_json
import fixtures


class TextWrapper(torch.nn.Module):
    """CLIPTextModelWithProjection's outputs; submodules keep CLIPModel's names in the export."""
    def __init__(self, m):
        super().__init__()
        self.text_model, self.text_projection = m.text_model, m.text_projection

    def forward(self, input_ids):
        h, pooled = self.text_model(input_ids)
        return self.text_projection(pooled), h


class VisionWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.vision_model, self.visual_projection = m.vision_model, m.visual_projection

    def forward(self, pixel_values):
        return self.visual_projection(self.vision_model(pixel_values))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(WORK, "final.pt"))
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    model, cfg = load_model(args.ckpt)
    tok = load_tokenizer(os.path.join(WORK, "tokenizer.json"))
    os.makedirs(os.path.join(MODEL_DIR, "onnx"), exist_ok=True)
    shutil.copy(os.path.join(WORK, "tokenizer.json"), os.path.join(MODEL_DIR, "tokenizer.json"))

    ids = torch.tensor(tok.tokenize(["a photo of a star.", "a red circle."]))
    torch.onnx.export(TextWrapper(model).eval(), (ids,), os.path.join(MODEL_DIR, "onnx", "text_model.onnx"), opset_version=14,
                      input_names=["input_ids"], output_names=["text_embeds", "last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size"}, "text_embeds": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}})
    px = torch.zeros(2, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch.onnx.export(VisionWrapper(model).eval(), (px,), os.path.join(MODEL_DIR, "onnx", "vision_model.onnx"), opset_version=14,
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}})

    hf = {**cfg, "text_config": {**cfg["text_config"]}, "vision_config": {**cfg["vision_config"]},
          "torch_dtype": "float32", "transformers_version": "4.45.0"}
    save_json(os.path.join(MODEL_DIR, "config.json"), hf)
    save_json(os.path.join(MODEL_DIR, "preprocessor_config.json"), {
        "crop_size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE}, "do_center_crop": True, "do_convert_rgb": True,
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": MEAN, "image_std": STD,
        "image_processor_type": "CLIPImageProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": IMAGE_SIZE},
    })
    with open(os.path.join(MODEL_DIR, "onnx", "text_model.onnx"), "rb") as f:
        text_sha = hashlib.sha256(f.read()).hexdigest()
    save_json(os.path.join(MODEL_DIR, "manifest.json"), {
        "id": "toy-clip",
        "name": "Toy CLIP (shapes, 64 px, RN-style image tower)",
        "image_size": IMAGE_SIZE,
        "embed_dim": cfg["projection_dim"],
        "text_width": cfg["text_config"]["hidden_size"],
        "logit_scale": float(model.logit_scale.exp().clamp(max=100)),
        "context_length": 77,
        "text_model_sha256": text_sha,
        "source": "Pretrained from scratch on procedurally generated shape images by tools/toy-clip (this repository). " + args.note,
        "license": "MIT (same as this repository)",
    })

    # Reference inputs/outputs for the onnxruntime check and later tests.
    u8, attrs = render_set(123, 4, allow_held_out=True)
    pixels = torch.from_numpy(normalize(u8))
    texts = ["a photo of a star.", "a photo of a small red star on a striped background.", "an outline drawing of a blue shape.", ""]
    ids = torch.tensor(tok.tokenize(texts))
    model.eval()  # an export restores the wrapper's mode, which must not leave BatchNorm in training mode
    with torch.no_grad():
        te, lh = TextWrapper(model).eval()(ids)
        ie = VisionWrapper(model).eval()(pixels)
    fixtures.write(os.path.join(ROOT, "tests", "fixtures", "toy-clip-io.bin"), {"texts": texts}, {
        "input_ids": ids.numpy().astype(np.int32), "text_embeds": te.numpy(), "last_hidden_state": lh.numpy(),
        "pixel_values": pixels.numpy(), "image_embeds": ie.numpy(),
    })
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(MODEL_DIR) for f in fs)
    print(f"exported to {MODEL_DIR}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
