"""demo.py's exact inputs for CoOp, for replaying them through our trainer.

/usr/bin/python3 tools/coop-trace/demo_views.py --out DIR
  DIR/pixels.bin + DIR/pixels.json: the normalized pixels of tools/toy-clip/demo.py's 8 augmented views of every
  training image (its own generator: numpy default_rng(0), PIL crops) and of the clean test and shifted images.
Then `tsx tools/coop-trace/encode-pixels.ts DIR` encodes them with the bundled vision_model.onnx (onnxruntime-node,
which reproduces PyTorch's image tower to 5.7e-6), and `replay_case.py` builds a trajectory case that repeats
coop.train(seed)'s own init and batches over those features.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "toy-clip"))

import demo  # noqa: E402
from common import normalize, preprocess  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--view-seed", type=int, default=0, help="demo.py's generator seed for the views (it uses 0)")
    args = ap.parse_args()
    index = json.load(open(os.path.join(demo.SAMPLES, "index.json")))
    arrays, meta = [], {"classes": index["classes"], "views": demo.VIEWS, "parts": []}
    # Training views exactly as demo.load_split(model, index, "train", views=VIEWS, seed=0) draws them.
    items = index["splits"]["train"]
    imgs = [Image.open(os.path.join(demo.SAMPLES, it["file"])).convert("RGB") for it in items]
    rng = np.random.default_rng(args.view_seed)
    views = [normalize(np.asarray(demo.random_resized_crop(rng, im))) for im in imgs for _ in range(demo.VIEWS)]
    arrays.append(np.stack(views))
    meta["parts"].append({"name": "train_views", "rows": len(views), "labels": [it["label"] for it in items]})
    for split in ("train", "test", "shifted"):
        items = index["splits"][split]
        px = [preprocess(Image.open(os.path.join(demo.SAMPLES, it["file"]))) for it in items]
        arrays.append(np.stack(px))
        meta["parts"].append({"name": f"{split}_clean", "rows": len(px), "labels": [it["label"] for it in items]})
    os.makedirs(args.out, exist_ok=True)
    allpx = np.concatenate(arrays).astype(np.float32)
    meta["shape"] = list(allpx.shape)
    allpx.tofile(os.path.join(args.out, "pixels.bin"))
    json.dump(meta, open(os.path.join(args.out, "pixels.json"), "w"))
    print(f"{allpx.shape[0]} images of {allpx.shape[1:]} → {args.out}")


if __name__ == "__main__":
    main()
