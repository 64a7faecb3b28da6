"""Reference dumps for TCP and DePT (on CoOp and on KgCoOp) on the toy CLIP, by PyTorch autograd in float32, following
the official modules (read, not copied):

- TCP (htyao89/Textual-based_Class-aware_prompt_tuning, trainers/tcp.py, trainers/clip_text/model.py): meta_net =
  Linear(E, E//4) -> QuickGELU -> Linear(E//4, 4*D) on the normalized hand-written prompt features, reshaped to
  [K, 4, D]; those tokens replace positions 1..4 at the input of block 8 (weight 1.0), here block
  min(8, round(2L/3)) = 3 of the toy's 4 (docs/methods.md); prompt "X X X X {}."; logits = s * f @ t_norm^T;
  loss = CE + 8 * (1 - mean CosineSimilarity(eps=1e-7)(t_norm, c)).
- DePT (Koorye/DePT, trainers/elp_coop.py, elp_kgcoop.py, FiLM in elp_maple.py): FiLM (scale, bias) on the text
  and on the image features, linear_probe_proj = Linear(E, K) over cat([film_text(t)[labels], film_img(f)]) with
  labels cat([y, y]); loss = 0.3 * CE(s f t^T) + 0.7 * CE(head) (+ w * (1 - mean cos(t, c)) on KgCoOp, w = 2 in
  DePT's KgCoOp config); base-class logits 0.3 * s f t^T + 0.7 * head(film_img(f)). The head takes the normalized
  features here (the official takes CLIP's raw ones): the named deviation our engines imply (docs/methods.md).

The learned tensors are random (seeded) and larger than at init, so every path carries gradient.

/usr/bin/python3 tcp_dept_dumps.py   (from tools/toy-clip; writes tests/fixtures/methods/{tcp,dept-coop,dept-kgcoop}-unified-end.{bin,case.json})
"""
import json
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import coop
import fixtures
from method_dumps import CLASSNAMES, OUT, hand_written_features
from onnx_text import frozen_model_and_tokenizer
from tower import encode_with_deep

NEW_CLASSNAMES = ["blue triangle", "cross"]
N_TOKENS = 4


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class FiLM(nn.Module):
    """DePT's channel-wise transformation: x * scale + bias, scale 1 and bias 0 at init."""

    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return self.scale.unsqueeze(0) * x + self.bias.unsqueeze(0)


def uniform_(p, bound, g):
    with torch.no_grad():
        p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)


def linear_default(lin, g, scale=1.0):
    """nn.Linear's default bounds (uniform +-1/sqrt(fan_in)) from a seeded generator, times `scale`."""
    b = 1.0 / lin.in_features ** 0.5
    uniform_(lin.weight, b * scale, g)
    uniform_(lin.bias, b, g)


def learner_for(model, tok, classnames, ctx):
    # "X X X X {}.": TCP's CUSTOM_TEMPLATES default and CoOp's random-init prompt, class token at the end.
    learner = coop.PromptLearner(model, tok, classnames, n_ctx=4, csc=False, position="end", seed=7)
    with torch.no_grad():
        learner.ctx.copy_(ctx)
    return learner


def encode(model, learner, deep=None):
    t = encode_with_deep(model, learner(), learner.tokenized.argmax(-1), deep)
    return t, t / t.norm(dim=-1, keepdim=True)


def params_json(named):
    # coop:grad's layout: a weight as [out][in] rows, a vector as a list (its gradient prints back the same way).
    return {n: p.detach().numpy().tolist() for n, p in named}


def base_json(learner, feats, labels, scale):
    return {"classnames": CLASSNAMES, "n_ctx": 4, "csc": False, "position": "end", "logit_scale": scale,
            "ctx": learner.ctx.detach().numpy().ravel().tolist(), "image_features": feats.numpy().tolist(),
            "labels": labels.tolist()}


def f32_exact(x):
    """Floats with 9 significant digits: enough to give back every float32 exactly, half the text of repr."""
    if isinstance(x, float):
        return float("%.9g" % x)
    if isinstance(x, list):
        return [f32_exact(v) for v in x]
    if isinstance(x, dict):
        return {k: f32_exact(v) for k, v in x.items()}
    return x


def write_case(name, meta, tensors, case):
    fixtures.write(os.path.join(OUT, name + ".bin"), meta, tensors)
    with open(os.path.join(OUT, name + ".case.json"), "w") as f:
        json.dump(f32_exact(case), f)


def tcp_dump(model, tok, ctx0, feats, labels, scale, clip, block, w=8.0):
    E = clip.shape[1]
    D = model.text_model.embeddings.token_embedding.weight.shape[1]
    K = len(CLASSNAMES)
    g = torch.Generator().manual_seed(2024)
    meta_net = nn.Sequential(OrderedDict([("linear1", nn.Linear(E, E // 4)), ("relu", QuickGELU()),
                                          ("linear2", nn.Linear(E // 4, N_TOKENS * D))]))
    linear_default(meta_net.linear1, g, 4.0)
    linear_default(meta_net.linear2, g, 2.0)
    learner = learner_for(model, tok, CLASSNAMES, ctx0)
    learner.ctx.requires_grad_(True)
    tokens = meta_net(clip).reshape(K, -1, D)
    tokens.retain_grad()  # the block's input gradient at positions 1..4: what the engines hand back as gradDeep
    t, t_norm = encode(model, learner, {block: tokens})
    logits = scale * feats @ t_norm.t()
    ce = F.cross_entropy(logits, labels)
    cos = nn.CosineSimilarity(dim=1, eps=1e-07)
    kg = w * (1.0 - torch.mean(cos(t_norm, clip / clip.norm(dim=-1, keepdim=True))))
    loss = ce + kg
    loss.backward()
    named = [("meta_net." + n, p) for n, p in meta_net.named_parameters()]
    # New classes: their own hand-written features through the trained MLP, the same context.
    new_clip = hand_written_features(model, tok, NEW_CLASSNAMES)
    with torch.no_grad():
        new_learner = learner_for(model, tok, NEW_CLASSNAMES, learner.ctx)
        _, new_t = encode(model, new_learner, {block: meta_net(new_clip).reshape(len(NEW_CLASSNAMES), -1, D)})
    name = "tcp-unified-end"
    meta = {"method": "tcp", "classnames": CLASSNAMES, "n_ctx": 4, "csc": False, "position": "end",
            "logit_scale": scale, "tcp_block": block, "tcp_weight": w, "tcp_tokens": N_TOKENS, "loss": float(loss),
            "ce": float(ce), "kg": float(kg), "new_classnames": NEW_CLASSNAMES, "model": "toy-clip"}
    tensors = {"ctx": learner.ctx.detach().numpy(), "image_features": feats.numpy(),
               "labels": labels.numpy().astype(np.int32), "token_ids": learner.tokenized.numpy().astype(np.int32),
               "hand_written": clip.numpy(), "tokens": tokens.detach().numpy(), "grad_tokens": tokens.grad.numpy(),
               "text_features": t_norm.detach().numpy(),
               "logits": logits.detach().numpy(), "loss": np.array([float(loss)], np.float32),
               "grad": learner.ctx.grad.numpy(), "new_hand_written": new_clip.numpy(),
               "new_token_ids": new_learner.tokenized.numpy().astype(np.int32), "new_text_features": new_t.numpy()}
    for n, p in named:
        tensors[n] = p.detach().numpy()
        tensors["grad_" + n] = p.grad.numpy()
    expected = {"loss": float(loss), "ce": float(ce), "kg": float(kg), "grad": learner.ctx.grad.numpy().ravel().tolist(),
                "logits": logits.detach().numpy().tolist(), "new_text_features": new_t.numpy().tolist()}
    expected["grad_tcp_mlp"] = {n: p.grad.numpy().tolist() for n, p in named}
    case = {**base_json(learner, feats, labels, scale), "method": "tcp", "hand_written": clip.numpy().tolist(),
            "tcp_block": block, "tcp_weight": w, "tcp_mlp": params_json(named), "new_classnames": NEW_CLASSNAMES,
            "new_hand_written": new_clip.numpy().tolist(), "expected": expected}
    write_case(name, meta, tensors, case)
    print(name, "loss", float(loss), "ce", float(ce), "kg", float(kg), "grad norm", float(learner.ctx.grad.norm()),
          "token grad norm", float(meta_net.linear2.bias.grad.norm()))


def dept_dump(model, tok, ctx0, feats, labels, scale, clip, base, lp_weight=0.7, kg_weight=2.0):
    E = clip.shape[1]
    K = len(CLASSNAMES)
    g = torch.Generator().manual_seed(77 if base == "coop" else 78)
    film_lp_img, film_lp_text = FiLM(E), FiLM(E)
    linear_probe_proj = nn.Linear(E, K)
    linear_default(linear_probe_proj, g, 3.0)
    with torch.no_grad():
        for film in (film_lp_img, film_lp_text):
            film.scale.add_(0.3 * torch.randn(E, generator=g))
            film.bias.copy_(0.1 * torch.randn(E, generator=g))
    learner = learner_for(model, tok, CLASSNAMES, ctx0)
    learner.ctx.requires_grad_(True)
    text_raw, text_norm = encode(model, learner)
    logits = scale * feats @ text_norm.t()
    # The head's rows: the labels' text features, then the images (normalized: the named deviation).
    all_feats = torch.cat([film_lp_text(text_norm)[labels], film_lp_img(feats)])
    all_labels = torch.cat([labels, labels])
    logits_lp = linear_probe_proj(all_feats)
    ce = F.cross_entropy(logits, labels)
    ce_lp = F.cross_entropy(logits_lp, all_labels)
    loss = (1 - lp_weight) * ce + lp_weight * ce_lp
    kg = torch.zeros(())
    if base == "kgcoop":
        cos = nn.CosineSimilarity(dim=1, eps=1e-07)
        kg = kg_weight * (1.0 - torch.mean(cos(text_raw, clip / clip.norm(dim=-1, keepdim=True))))
        loss = loss + kg
    loss.backward()
    with torch.no_grad():
        fused = (1 - lp_weight) * logits + lp_weight * linear_probe_proj(film_lp_img(feats))
    named = [("film_lp_img." + n, p) for n, p in film_lp_img.named_parameters()] + \
            [("film_lp_text." + n, p) for n, p in film_lp_text.named_parameters()] + \
            [("linear_probe_proj." + n, p) for n, p in linear_probe_proj.named_parameters()]
    name = f"dept-{base}-unified-end"
    method = f"dept-{base}"
    meta = {"method": method, "classnames": CLASSNAMES, "n_ctx": 4, "csc": False, "position": "end",
            "logit_scale": scale, "dept_lp_weight": lp_weight, "loss": float(loss), "ce": float(ce),
            "ce_lp": float(ce_lp), "kg": float(kg), "model": "toy-clip"}
    if base == "kgcoop":
        meta["kg_weight"] = kg_weight
    tensors = {"ctx": learner.ctx.detach().numpy(), "image_features": feats.numpy(),
               "labels": labels.numpy().astype(np.int32), "token_ids": learner.tokenized.numpy().astype(np.int32),
               "text_features": text_norm.detach().numpy(), "logits": fused.numpy(),
               "logits_sim": logits.detach().numpy(), "loss": np.array([float(loss)], np.float32),
               "grad": learner.ctx.grad.numpy()}
    if base == "kgcoop":
        tensors["kg_text_features"] = clip.numpy()
    for n, p in named:
        tensors[n] = p.detach().numpy()
        tensors["grad_" + n] = p.grad.numpy()
    expected = {"loss": float(loss), "ce": float(ce), "ce_lp": float(ce_lp), "grad": learner.ctx.grad.numpy().ravel().tolist(),
                "logits": fused.numpy().tolist(), "logits_sim": logits.detach().numpy().tolist()}
    if base == "kgcoop":
        expected["kg"] = float(kg)
    expected["grad_dept"] = {n: p.grad.numpy().tolist() for n, p in named}
    case = {**base_json(learner, feats, labels, scale), "method": method, "dept_lp_weight": lp_weight,
            "dept": params_json(named), "expected": expected}
    if base == "kgcoop":
        case.update({"kg_weight": kg_weight, "kg_text_features": clip.numpy().tolist()})
    write_case(name, meta, tensors, case)
    print(name, "loss", float(loss), "ce", float(ce), "ce_lp", float(ce_lp), "kg", float(kg),
          "grad norm", float(learner.ctx.grad.norm()))


def main():
    model, cfg, tok = frozen_model_and_tokenizer()
    E = cfg["projection_dim"]
    L = len(model.text_model.encoder.layers)
    block = min(8, round(2 * L / 3))
    g = torch.Generator().manual_seed(1913)
    n, k = 9, len(CLASSNAMES)
    feats = torch.randn(n, E, generator=g)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    labels = torch.randint(0, k, (n,), generator=g)
    scale = float(model.logit_scale.exp().clamp(max=100))
    clip = hand_written_features(model, tok, CLASSNAMES)
    D = model.text_model.embeddings.token_embedding.weight.shape[1]
    ctx0 = torch.randn(4, D, generator=g) * 0.5
    os.makedirs(OUT, exist_ok=True)
    tcp_dump(model, tok, ctx0, feats, labels, scale, clip, block)
    dept_dump(model, tok, ctx0, feats, labels, scale, clip, "coop")
    dept_dump(model, tok, ctx0, feats, labels, scale, clip, "kgcoop")


if __name__ == "__main__":
    main()
