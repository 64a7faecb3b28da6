"""Reference dumps for the prompts inside the tower: CoCoOp and deep language prompting, on the toy CLIP, by PyTorch
autograd in float32, following the official modules' logic (read, not copied):

- CoCoOp (KaiyangZhou/CoOp trainers/cocoop.py): meta_net = Sequential(linear1: Linear(E, E//16), relu,
  linear2: Linear(E//16, D)) applied to the L2-NORMALIZED image feature; every context vector of image b is
  ctx + meta_net(f_b); image b is scored against all K classes with its own prompts
  (logits[b, k] = logit_scale * f_b . t_{b,k}, t normalized), loss = F.cross_entropy over the batch (mean).
  Class token at the end (the official PromptLearner has no other position). One case: K = 5, B = 3, 4 context
  vectors, the Meta-Net at PyTorch's default Linear init (seeded) times a gain, so its gradient is not tiny.
- Deep language prompting (muzairkhattak/multimodal-prompt-learning, trainer IVLP with N_CTX_VISION 0,
  PROMPT_DEPTH_VISION 0, N_CTX_TEXT 4, PROMPT_DEPTH_TEXT 12; clip/model.py ResidualAttentionBlock_IVLP): blocks
  i = 1 .. PROMPT_DEPTH_TEXT - 1 own VPT_shallow [n_ctx, width] (nn.init.normal_ std 0.02) that replace positions
  1..n_ctx at the block's input, before ln_1; block 0's context is the prompt learner's ctx. On the toy (4 layers)
  the full depth is blocks 1..3. Tokens are drawn larger than 0.02 here so that they move the features.

Both go through tower.py's encode_with_deep over all 77 positions, as the original computes them.

/usr/bin/python3 tower_dumps.py   (from tools/toy-clip; writes tests/fixtures/methods/cocoop-unified-end.* and
deep-unified-end.*)
"""
import json
import os
from collections import OrderedDict
import numpy as np
import torch
import torch.nn.functional as F

import coop
import fixtures
from common import ROOT
from method_dumps import CLASSNAMES
from onnx_text import frozen_model_and_tokenizer
from tower import encode_with_deep

OUT = os.path.join(ROOT, "tests", "fixtures", "methods")
N_CTX = 4
META_KEYS = ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True)


def learner_with_ctx(model, tok, g, std=0.5):
    learner = coop.PromptLearner(model, tok, CLASSNAMES, n_ctx=N_CTX, csc=False, position="end", seed=7)
    with torch.no_grad():
        learner.ctx.copy_(torch.randn(learner.ctx.shape, generator=g) * std)
    learner.ctx.requires_grad_(True)
    return learner


def case_json(path, learner, feats, labels, scale, extra, expected):
    with open(path, "w") as f:
        json.dump({"classnames": CLASSNAMES, "n_ctx": N_CTX, "csc": False, "position": "end", "logit_scale": scale,
                   "ctx": learner.ctx.detach().numpy().ravel().tolist(), "image_features": feats.numpy().tolist(),
                   "labels": labels.tolist(), **extra, "expected": expected}, f)


META_GAIN = {"linear1.weight": 4.0, "linear1.bias": 4.0, "linear2.weight": 4.0, "linear2.bias": 1.0}


def meta_net(E, D, seed):
    """The official Meta-Net with nn.Linear's default init (kaiming_uniform a=sqrt(5): U(+-1/sqrt(fan_in)) for the
    weight and the bias), from a seeded generator, then times META_GAIN so that pi is as large as the context and
    differs between images (a larger linear2.bias would make pi nearly the same for every image)."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(OrderedDict([
        ("linear1", torch.nn.Linear(E, E // 16)),
        ("relu", torch.nn.ReLU(inplace=True)),
        ("linear2", torch.nn.Linear(E // 16, D)),
    ]))
    with torch.no_grad():
        for k, p in net.named_parameters():
            p.mul_(META_GAIN[k])
    return net


def cocoop_dump(model, tok, scale, E, D):
    g = torch.Generator().manual_seed(2468)
    B, K = 3, len(CLASSNAMES)
    learner = learner_with_ctx(model, tok, g)
    feats = normalize(torch.randn(B, E, generator=g))
    labels = torch.tensor([1, 4, 2])
    net = meta_net(E, D, seed=97)
    # As CustomCLIP.forward: the Meta-Net reads the normalized image feature; ctx + pi_b for every class of image b.
    bias = net(feats)                                     # [B, D]
    ctx_shifted = learner.ctx.unsqueeze(0) + bias.unsqueeze(1)  # [B, M, D]
    pre, suf = learner.token_prefix, learner.token_suffix
    eos = learner.tokenized.argmax(-1)
    logits, txts = [], []
    for ctx_i, f_i in zip(ctx_shifted, feats):
        prompts = torch.cat([pre, ctx_i.unsqueeze(0).expand(K, -1, -1), suf], dim=1)
        t = normalize(encode_with_deep(model, prompts, eos))
        txts.append(t)
        logits.append(scale * f_i @ t.t())
    logits = torch.stack(logits)                          # [B, K]
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    params = dict(net.named_parameters())
    grads = {k: params[k].grad.numpy().copy() for k in META_KEYS}
    name = "cocoop-unified-end"
    meta = {"method": "cocoop", "classnames": CLASSNAMES, "n_ctx": N_CTX, "csc": False, "position": "end",
            "logit_scale": scale, "meta_net_gain": META_GAIN, "loss": float(loss), "model": "toy-clip",
            "rows": "row b*K + k: image b, class k"}
    t = {"ctx": learner.ctx.detach().numpy().copy(), "image_features": feats.numpy(),
         "labels": labels.numpy().astype(np.int32), "token_ids": learner.tokenized.numpy().astype(np.int32),
         "meta_net_bias": bias.detach().numpy(), "text_features": torch.cat(txts).detach().numpy(),
         "logits": logits.detach().numpy(), "loss": np.array([float(loss)], np.float32),
         "grad": learner.ctx.grad.numpy()}
    for k in META_KEYS:
        t["meta_net." + k] = params[k].detach().numpy()
        t["grad.meta_net." + k] = grads[k]
    fixtures.write(os.path.join(OUT, name + ".bin"), meta, t)
    case_json(os.path.join(OUT, name + ".case.json"), learner, feats, labels, scale,
              {"method": "cocoop", "meta_net": {k: params[k].detach().numpy().tolist() for k in META_KEYS}},
              {"loss": float(loss), "grad": learner.ctx.grad.numpy().ravel().tolist(),
               "grad_meta_net": {k: grads[k].tolist() for k in META_KEYS},
               "logits": logits.detach().numpy().tolist()})
    relu_on = int((net.linear1(feats) > 0).sum())
    print(name, "loss", float(loss), "grad norm", float(learner.ctx.grad.norm()), "|pi| per image",
          [round(float(x), 3) for x in bias.norm(dim=-1)], "|pi_0 - pi_1|", round(float((bias[0] - bias[1]).norm()), 3),
          "|ctx_m|", round(float(learner.ctx.norm(dim=-1).mean()), 3), "active relu units", relu_on, "of", B * (E // 16),
          "grad norms", {k: round(float(np.linalg.norm(v)), 5) for k, v in grads.items()})


def deep_dump(model, tok, scale, E, D, L):
    g = torch.Generator().manual_seed(1357)
    N, K = 6, len(CLASSNAMES)
    learner = learner_with_ctx(model, tok, g)
    feats = normalize(torch.randn(N, E, generator=g))
    labels = torch.tensor([0, 1, 2, 3, 4, 2])
    # Blocks 1 .. L-1 (PROMPT_DEPTH_TEXT = L: every block after the first), each its own [n_ctx, D].
    blocks = list(range(1, L))
    deep = {b: (torch.randn(N_CTX, D, generator=g) * 0.5).requires_grad_(True) for b in blocks}
    eos = learner.tokenized.argmax(-1)
    txt = normalize(encode_with_deep(model, learner(), eos, deep))
    logits = scale * feats @ txt.t()
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    name = "deep-unified-end"
    meta = {"method": "deep", "classnames": CLASSNAMES, "n_ctx": N_CTX, "csc": False, "position": "end",
            "logit_scale": scale, "deep_blocks": blocks, "loss": float(loss), "model": "toy-clip"}
    t = {"ctx": learner.ctx.detach().numpy().copy(), "image_features": feats.numpy(),
         "labels": labels.numpy().astype(np.int32), "token_ids": learner.tokenized.numpy().astype(np.int32),
         "text_features": txt.detach().numpy(), "logits": logits.detach().numpy(),
         "loss": np.array([float(loss)], np.float32), "grad": learner.ctx.grad.numpy()}
    for b in blocks:
        t[f"deep_ctx.{b}"] = deep[b].detach().numpy()
        t[f"grad.deep_ctx.{b}"] = deep[b].grad.numpy()
    fixtures.write(os.path.join(OUT, name + ".bin"), meta, t)
    case_json(os.path.join(OUT, name + ".case.json"), learner, feats, labels, scale,
              {"method": "deep", "deep_ctx": [deep[b].detach().numpy().ravel().tolist() for b in blocks]},
              {"loss": float(loss), "grad": learner.ctx.grad.numpy().ravel().tolist(),
               "grad_deep_ctx": [deep[b].grad.numpy().ravel().tolist() for b in blocks],
               "logits": logits.detach().numpy().tolist()})
    print(name, "loss", float(loss), "grad norm", float(learner.ctx.grad.norm()), "deep grad norms",
          [round(float(deep[b].grad.norm()), 5) for b in blocks])


def main():
    model, cfg, tok = frozen_model_and_tokenizer()
    E = cfg["projection_dim"]
    D = cfg["text_config"]["hidden_size"]
    L = cfg["text_config"]["num_hidden_layers"]
    scale = float(model.logit_scale.exp().clamp(max=100))
    os.makedirs(OUT, exist_ok=True)
    cocoop_dump(model, tok, scale, E, D)
    deep_dump(model, tok, scale, E, D, L)


if __name__ == "__main__":
    main()
