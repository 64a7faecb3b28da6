"""Procedural shape images and their attributes (the toy world CLIP is pretrained on)."""
import math
import numpy as np
from PIL import Image, ImageDraw

SHAPES = ["circle", "square", "triangle", "star", "cross", "ring", "heart", "diamond", "hexagon", "arrow"]
COLOURS = {
    "red": (215, 40, 40), "green": (40, 165, 60), "blue": (45, 85, 225), "yellow": (240, 215, 40),
    "purple": (140, 60, 190), "orange": (245, 135, 30), "pink": (245, 130, 190), "cyan": (40, 200, 215),
}
COLOUR_NAMES = list(COLOURS)
SIZES = ["small", "large"]
BACKGROUNDS = ["plain", "noisy", "striped"]
STYLES = ["filled", "outline"]
# Shape-colour pairs never drawn filled during pretraining: zero-shot must compose them.
HELD_OUT_COMBOS = {("red", "star"), ("blue", "circle"), ("green", "triangle"), ("yellow", "heart"), ("purple", "square")}

RENDER = 128  # drawn at 128 px; the model sees it after CLIP preprocessing (bicubic to 64)


def _polygon(shape, cx, cy, r, rot):
    def ring_pts(n, rr, phase=0.0):
        return [(cx + rr * math.cos(phase + rot + 2 * math.pi * k / n), cy + rr * math.sin(phase + rot + 2 * math.pi * k / n)) for k in range(n)]
    if shape == "square":
        return ring_pts(4, r * 1.05, math.pi / 4)
    if shape == "triangle":
        return ring_pts(3, r * 1.1, -math.pi / 2)
    if shape == "hexagon":
        return ring_pts(6, r)
    if shape == "diamond":
        pts = [(0, -1.15), (0.7, 0), (0, 1.15), (-0.7, 0)]
    elif shape == "star":
        pts = []
        for k in range(10):
            rr = 1.0 if k % 2 == 0 else 0.42
            a = -math.pi / 2 + math.pi * k / 5
            pts.append((rr * math.cos(a), rr * math.sin(a)))
    elif shape == "cross":
        w = 0.33
        pts = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w)]
    elif shape == "heart":
        pts = []
        for k in range(40):
            t = 2 * math.pi * k / 40
            x = 16 * math.sin(t) ** 3
            y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
            pts.append((x / 16.5, (y + 2.5) / 16.5))
    elif shape == "arrow":
        pts = [(-1, -0.28), (0.15, -0.28), (0.15, -0.7), (1, 0), (0.15, 0.7), (0.15, 0.28), (-1, 0.28)]
    else:
        raise ValueError(shape)
    c, s = math.cos(rot), math.sin(rot)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


def _background(rng, kind):
    base = rng.integers(70, 200)
    tint = rng.integers(-12, 13, size=3)
    col = np.clip(base + tint, 0, 255)
    img = np.empty((RENDER, RENDER, 3), np.float32)
    img[:] = col
    if kind == "noisy":
        img += rng.normal(0, 28, size=img.shape)
    elif kind == "striped":
        other = np.clip(col + rng.choice([-1, 1]) * rng.integers(40, 70), 0, 255)
        ang = rng.uniform(0, math.pi)
        period = rng.uniform(8, 20)
        yy, xx = np.mgrid[0:RENDER, 0:RENDER]
        band = (np.floor((xx * math.cos(ang) + yy * math.sin(ang)) / period) % 2).astype(bool)
        img[band] = other
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def render(rng, shape, colour, size, background, style, render_size=RENDER):
    """One image (PIL, RGB, render_size px) of the given attributes; position, rotation and jitter from rng."""
    bg = _background(rng, background)
    img = bg.copy()
    draw = ImageDraw.Draw(img)
    r = RENDER * (rng.uniform(0.13, 0.19) if size == "small" else rng.uniform(0.27, 0.36))
    m = r * 1.2 + 2
    cx, cy = rng.uniform(m, RENDER - m), rng.uniform(m, RENDER - m)
    rot = rng.uniform(-0.3, 0.3)
    rgb = tuple(int(np.clip(v + rng.integers(-20, 21), 0, 255)) for v in COLOURS[colour])
    width = max(2, int(round(r * rng.uniform(0.1, 0.16))))
    if shape in ("circle", "ring"):
        box = [cx - r, cy - r, cx + r, cy + r]
        if shape == "circle":
            if style == "filled":
                draw.ellipse(box, fill=rgb)
            else:
                draw.ellipse(box, outline=rgb, width=width)
        else:
            inner = r * 0.55
            ibox = [cx - inner, cy - inner, cx + inner, cy + inner]
            if style == "filled":
                draw.ellipse(box, fill=rgb)
                mask = Image.new("L", img.size, 0)  # the hole shows the background again
                ImageDraw.Draw(mask).ellipse(ibox, fill=255)
                img.paste(bg, (0, 0), mask)
            else:
                draw.ellipse(box, outline=rgb, width=width)
                draw.ellipse(ibox, outline=rgb, width=width)
    else:
        pts = _polygon(shape, cx, cy, r, rot)
        if style == "filled":
            draw.polygon(pts, fill=rgb)
        else:
            draw.line(pts + [pts[0], pts[1]], fill=rgb, width=width, joint="curve")
    if render_size != RENDER:
        img = img.resize((render_size, render_size), Image.BICUBIC)
    return img


def random_attrs(rng, style=None, allow_held_out=False):
    while True:
        a = {
            "shape": SHAPES[rng.integers(len(SHAPES))],
            "colour": COLOUR_NAMES[rng.integers(len(COLOUR_NAMES))],
            "size": SIZES[rng.integers(2)],
            "background": BACKGROUNDS[rng.integers(3)],
            "style": style or ("outline" if rng.random() < 0.2 else "filled"),
        }
        if allow_held_out or a["style"] == "outline" or (a["colour"], a["shape"]) not in HELD_OUT_COMBOS:
            return a
