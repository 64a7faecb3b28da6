"""Reference outputs of CLIP's image transform as PIL + numpy compute it, for tests/preprocess.test.ts.

Run with /usr/bin/python3 (needs only PIL and numpy). Writes into tests/fixtures/preprocess/:
  <name>.png / <name>.rgb.bin     the procedurally drawn source image, and its raw RGB uint8 (what the test reads)
  <name>.<size>.resized.bin       uint8 RGB after resizing the shorter side to <size> with Image.BICUBIC
  <name>.<size>.tensor.bin        float32 (little-endian) CHW tensor after center crop, /255 and normalisation
  index.json                      shapes and file names of all of the above
  header-33x17.*                  tiny files in each container format, for the header size sniffer
The transform follows CLIP's torchvision pipeline (Resize, CenterCrop, ToTensor, Normalize) on float32.
"""
import json
import os

import numpy as np
import PIL
from PIL import Image, ImageDraw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "preprocess")
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)


def gradient_noise(rng):
    """97x61: smooth gradients plus noise, so every filter tap matters; odd sizes exercise rounding."""
    h, w = 61, 97
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / (w - 1) * 255, y / (h - 1) * 255, (x + y) / (w + h - 2) * 255], -1)
    img = base + rng.normal(0, 40, (h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def tall_small(rng):
    """40x130: smaller than 64 on its short side, so it is upscaled, and the crop is vertical."""
    img = rng.integers(0, 256, (130, 40, 3), dtype=np.uint8)
    img[::7] = 255
    return Image.fromarray(img, "RGB")


def sharp_edges(rng):
    """300x200: hard-edged shapes and text-like stripes, where cubic overshoot has to be clipped."""
    img = Image.new("RGB", (300, 200), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([20, 20, 120, 90], fill=(255, 0, 0))
    d.ellipse([150, 40, 280, 180], fill=(0, 0, 255), outline=(0, 0, 0), width=3)
    d.polygon([(30, 190), (100, 110), (140, 190)], fill=(0, 200, 0))
    for x in range(160, 300, 4):
        d.line([(x, 0), (x, 30)], fill=(0, 0, 0), width=1)
    for i in range(40):
        x0, y0 = (int(v) for v in rng.integers(0, 290, 2))
        d.point((x0, min(y0, 199)), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img


IMAGES = {"gradient-97x61": gradient_noise, "tall-40x130": tall_small, "edges-300x200": sharp_edges}
# 224 tensors are large, so only two sources get them; 64 (the toy model's size) covers all three.
SIZES = {"gradient-97x61": [64, 224], "tall-40x130": [64], "edges-300x200": [64, 224]}


def clip_transform(img, size):
    """torchvision Resize(size, BICUBIC) -> CenterCrop(size) -> ToTensor -> Normalize, spelled with PIL/numpy."""
    w, h = img.size
    ow, oh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    resized = img.resize((ow, oh), Image.BICUBIC)
    left, top = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
    crop = np.asarray(resized.crop((left, top, left + size, top + size)), np.uint8)
    x = crop.astype(np.float32) / np.float32(255)
    x = (x - MEAN) / STD
    return np.asarray(resized, np.uint8), np.ascontiguousarray(x.transpose(2, 0, 1), np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240607)
    index = {"pil_version": PIL.__version__, "mean": MEAN.tolist(), "std": STD.tolist(), "images": []}
    for name, make in IMAGES.items():
        img = make(rng)
        img.save(os.path.join(OUT, f"{name}.png"))
        np.asarray(img, np.uint8).tofile(os.path.join(OUT, f"{name}.rgb.bin"))
        entry = {"name": name, "width": img.size[0], "height": img.size[1], "source": f"{name}.rgb.bin", "outputs": []}
        for size in SIZES[name]:
            resized, tensor = clip_transform(img, size)
            resized.tofile(os.path.join(OUT, f"{name}.{size}.resized.bin"))
            tensor.astype("<f4").tofile(os.path.join(OUT, f"{name}.{size}.tensor.bin"))
            entry["outputs"].append({
                "size": size,
                "resized": f"{name}.{size}.resized.bin",
                "resized_width": resized.shape[1],
                "resized_height": resized.shape[0],
                "tensor": f"{name}.{size}.tensor.bin",
            })
        index["images"].append(entry)
    tiny = Image.new("RGB", (33, 17), (10, 200, 30))
    for ext in ("jpg", "gif", "webp", "png"):
        tiny.save(os.path.join(OUT, f"header-33x17.{ext}"))
    tiny.save(os.path.join(OUT, "header-33x17.lossless.webp"), lossless=True)
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
