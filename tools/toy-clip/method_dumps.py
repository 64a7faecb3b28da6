"""Reference dumps for KgCoOp, ProGrad and Tip-Adapter(-F) on the toy CLIP, by PyTorch autograd, following the
official formulas (read, not copied):

- KgCoOp (htyao89/KgCoOp trainers/kgcoop.py): loss = CE + w * (1 - mean cos(t_k, c_k)), torch CosineSimilarity with
  eps 1e-7, c the normalized features of the hand-written prompt "a photo of a {}.", one backward.
- ProGrad (BeierZhu/Prompt-align ProGradLoss and Dassl.ProGrad prograd_backward_and_update): xe = CE,
  kl = T^2 * mean_n sum_k -p log softmax(logits/T), p = softmax(zs_logits/T); backward kl (retain_graph), keep its
  gradient b, backward xe into a; if cos(a, b) < 0: a - lambda * (a . b_hat) b_hat, else a.
- Tip-Adapter / -F (gaopengcuhk/Tip-Adapter main.py, utils.py): keys = normalized mean over augmented views,
  values one-hot, logits = 100 f W^T + alpha exp(-beta (1 - f K^T)) V; the official search grid; -F trains the keys
  with AdamW(lr, eps=1e-4) and CosineAnnealingLR over epochs * batches, one augmented view per image per epoch.

/usr/bin/python3 method_dumps.py   (from tools/toy-clip; writes tests/fixtures/methods/)
"""
import json
import os
import numpy as np
import torch
import torch.nn.functional as F

import coop
import fixtures
from common import ROOT
from onnx_text import frozen_model_and_tokenizer

OUT = os.path.join(ROOT, "tests", "fixtures", "methods")
CLASSNAMES = ["star", "red circle", "outline_drawing", "hexagon", "a large striped heart"]
TEMPLATE = "a photo of a {}."


def hand_written_features(model, tok, classnames):
    ids = torch.tensor(tok.tokenize([TEMPLATE.format(c.replace("_", " ")) for c in classnames]))
    with torch.no_grad():
        f = model.encode_text(ids)
    return f / f.norm(dim=-1, keepdim=True)


def prompt_case(model, tok, g, feats, labels, scale, csc, position):
    learner = coop.PromptLearner(model, tok, CLASSNAMES, n_ctx=4, csc=csc, position=position, seed=7)
    with torch.no_grad():
        learner.ctx.copy_(torch.randn(learner.ctx.shape, generator=g) * 0.5)
    learner.ctx.requires_grad_(True)
    return learner


def text_feats(model, learner):
    # All 77 positions, as the original computes them.
    prompts = learner()
    eos = learner.tokenized.argmax(-1)
    t = model.encode_text_embeds(prompts, eos)
    return t / t.norm(dim=-1, keepdim=True)


def base_tensors(learner, feats, labels):
    return {"ctx": learner.ctx.detach().numpy().copy(), "image_features": feats.numpy(),
            "labels": labels.numpy().astype(np.int32), "token_ids": learner.tokenized.numpy().astype(np.int32)}


def case_json(path, learner, feats, labels, scale, csc, position, extra, expected):
    with open(path, "w") as f:
        json.dump({"classnames": CLASSNAMES, "n_ctx": 4, "csc": csc, "position": position, "logit_scale": scale,
                   "ctx": learner.ctx.detach().numpy().ravel().tolist(), "image_features": feats.numpy().tolist(),
                   "labels": labels.tolist(), **extra, "expected": expected}, f)


def kgcoop_dump(model, tok, g, feats, labels, scale, clip, csc, position, w):
    learner = prompt_case(model, tok, g, feats, labels, scale, csc, position)
    txt = text_feats(model, learner)
    logits = scale * feats @ txt.T
    ce = F.cross_entropy(logits, labels)
    cos = torch.nn.CosineSimilarity(dim=1, eps=1e-07)
    score = 1.0 - torch.mean(cos(txt, clip / clip.norm(dim=-1, keepdim=True)))
    loss = ce + w * score
    loss.backward()
    name = f"kgcoop-{'csc' if csc else 'unified'}-{position}"
    meta = {"method": "kgcoop", "classnames": CLASSNAMES, "n_ctx": 4, "csc": csc, "position": position,
            "logit_scale": scale, "kg_weight": w, "loss": float(loss), "ce": float(ce), "model": "toy-clip"}
    t = base_tensors(learner, feats, labels)
    t.update({"kg_text_features": clip.numpy(), "logits": logits.detach().numpy(),
              "loss": np.array([float(loss)], np.float32), "grad": learner.ctx.grad.numpy()})
    fixtures.write(os.path.join(OUT, name + ".bin"), meta, t)
    if not csc and position == "end":
        case_json(os.path.join(OUT, name + ".case.json"), learner, feats, labels, scale, csc, position,
                  {"method": "kgcoop", "kg_weight": w, "kg_text_features": clip.numpy().tolist()},
                  {"loss": float(loss), "grad": learner.ctx.grad.numpy().ravel().tolist(),
                   "logits": logits.detach().numpy().tolist()})
    print(name, "loss", float(loss), "ce", float(ce), "grad norm", float(learner.ctx.grad.norm()))


def prograd_dump(model, tok, g, feats, labels, scale, zs_logits, csc, position, T, lam):
    learner = prompt_case(model, tok, g, feats, labels, scale, csc, position)
    txt = text_feats(model, learner)
    logits = scale * feats @ txt.T
    xe = F.cross_entropy(logits, labels)
    tea = F.softmax(zs_logits / T, dim=-1)
    kl = (-tea * F.log_softmax(logits / T, -1) * T * T).sum(1).mean()
    kl.backward(retain_graph=True)
    b = learner.ctx.grad.clone()
    learner.ctx.grad = None
    xe.backward()
    a = learner.ctx.grad.clone()
    b_hat = b / torch.linalg.norm(b)
    a_hat = a / torch.linalg.norm(a)
    cosv = float(torch.dot(a_hat.flatten(), b_hat.flatten()))
    grad = a - lam * torch.dot(a.flatten(), b_hat.flatten()) * b_hat if cosv < 0 else a
    name = f"prograd-{'csc' if csc else 'unified'}-{position}"
    meta = {"method": "prograd", "classnames": CLASSNAMES, "n_ctx": 4, "csc": csc, "position": position,
            "logit_scale": scale, "prograd_T": T, "prograd_lambda": lam, "loss": float(xe), "kl": float(kl),
            "cos": cosv, "model": "toy-clip"}
    t = base_tensors(learner, feats, labels)
    t.update({"zs_logits": zs_logits.numpy(), "logits": logits.detach().numpy(),
              "loss": np.array([float(xe)], np.float32), "grad": grad.numpy(), "grad_ce": a.numpy(),
              "grad_kl": b.numpy()})
    fixtures.write(os.path.join(OUT, name + ".bin"), meta, t)
    if not csc and position == "end":
        case_json(os.path.join(OUT, name + ".case.json"), learner, feats, labels, scale, csc, position,
                  {"method": "prograd", "zs_logits": zs_logits.numpy().tolist(), "prograd_T": T, "prograd_lambda": lam},
                  {"loss": float(xe), "kl": float(kl), "grad": grad.numpy().ravel().tolist(),
                   "logits": logits.detach().numpy().tolist()})
    print(name, "xe", float(xe), "kl", float(kl), "cos(g_ce, g_kl)", cosv, "projected", cosv < 0)


def tip_logits(f, keys_t, values, clip_w, alpha, beta):
    affinity = f @ keys_t
    return 100.0 * f @ clip_w + ((-1) * (beta - beta * affinity)).exp() @ values * alpha


def tip_dump(model, tok):
    g = torch.Generator().manual_seed(99)
    k, shots, views, E = 4, 3, 5, 128
    clip = hand_written_features(model, tok, CLASSNAMES[:k])  # [K, E]
    clip_w = clip.T.contiguous()  # [E, K], as clip_classifier stacks it
    labels = torch.arange(k).repeat_interleave(shots)
    n = labels.numel()
    # Each class's images sit away from its text feature by an offset zero-shot CLIP cannot know: the cache helps.
    offset = 0.8 * torch.randn(k, E, generator=g)
    base = clip[labels] + offset[labels] + 0.4 * torch.randn(n, E, generator=g)
    view_feats = base[:, None, :] + 0.3 * torch.randn(n, views, E, generator=g)
    view_feats = view_feats / view_feats.norm(dim=-1, keepdim=True)
    keys = view_feats.mean(dim=1)
    keys = keys / keys.norm(dim=-1, keepdim=True)
    keys_t = keys.T.contiguous()  # [E, N]
    values = F.one_hot(labels).float()
    val_labels = torch.arange(k).repeat(4)
    val = clip[val_labels] + offset[val_labels] + 0.9 * torch.randn(val_labels.numel(), E, generator=g)
    val = val / val.norm(dim=-1, keepdim=True)
    alpha0, beta0 = 1.17, 1.0
    logits0 = tip_logits(val, keys_t, values, clip_w, alpha0, beta0)
    # The official search (utils.search_hp), on a smaller grid here: same formula, fewer steps.
    scale, step = [7, 3], [20, 10]
    betas = [i * (scale[0] - 0.1) / step[0] + 0.1 for i in range(step[0])]
    alphas = [i * (scale[1] - 0.1) / step[1] + 0.1 for i in range(step[1])]
    best = (0.0, 0.0, 0.0)
    for b in betas:
        for a in alphas:
            acc = float((tip_logits(val, keys_t, values, clip_w, a, b).argmax(-1) == val_labels).float().mean()) * 100
            if acc > best[0]:
                best = (acc, b, a)
    # Tip-Adapter-F: 3 epochs, batch 4 (4 batches of 3 images... n=12 -> 3 batches), one view per image per epoch.
    epochs, batch, lr = 3, 4, 0.001
    adapter = torch.nn.Linear(E, n, bias=False)
    adapter.weight = torch.nn.Parameter(keys_t.t().clone())
    opt = torch.optim.AdamW(adapter.parameters(), lr=lr, eps=1e-4)
    nb = n // batch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * nb)
    rng = np.random.default_rng(5)
    plan_images, plan_views, losses = [], [], []
    for ep in range(epochs):
        order = rng.permutation(n)
        vsel = rng.integers(0, views, size=n)
        for bi in range(nb):
            idx = order[bi * batch:(bi + 1) * batch]
            f = view_feats[idx, vsel[idx]]
            plan_images.append(idx)
            plan_views.append(vsel[idx])
            affinity = adapter(f)
            cache_logits = ((-1) * (beta0 - beta0 * affinity)).exp() @ values
            tl = 100.0 * f @ clip_w + cache_logits * alpha0
            loss = F.cross_entropy(tl, labels[idx])
            losses.append(float(loss))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    trained = adapter.weight.detach()
    with torch.no_grad():
        logits_f = 100.0 * val @ clip_w + ((-1) * (beta0 - beta0 * (val @ trained.T))).exp() @ values * alpha0
    meta = {"n_classes": k, "shots": shots, "views": views, "alpha": alpha0, "beta": beta0,
            "search_scale": scale, "search_step": step, "best": {"acc": best[0], "beta": best[1], "alpha": best[2]},
            "f_epochs": epochs, "f_batch": batch, "f_lr": lr, "f_eps": 1e-4, "f_weight_decay": 0.01}
    fixtures.write(os.path.join(OUT, "tip-adapter.bin"), meta, {
        "view_features": view_feats.numpy(), "labels": labels.numpy().astype(np.int32), "clip_weights": clip.numpy(),
        "keys": keys.numpy(), "val_features": val.numpy(), "val_labels": val_labels.numpy().astype(np.int32),
        "val_logits": logits0.numpy(), "plan_images": np.stack(plan_images).astype(np.int32),
        "plan_views": np.stack(plan_views).astype(np.int32), "f_losses": np.array(losses, np.float32),
        "f_keys": trained.numpy(), "f_val_logits": logits_f.numpy()})
    print("tip-adapter best", best, "F losses", losses)


def main():
    model, cfg, tok = frozen_model_and_tokenizer()
    E = cfg["projection_dim"]
    g = torch.Generator().manual_seed(4321)
    n, k = 9, len(CLASSNAMES)
    feats = torch.randn(n, E, generator=g)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    labels = torch.randint(0, k, (n,), generator=g)
    scale = float(model.logit_scale.exp().clamp(max=100))
    clip = hand_written_features(model, tok, CLASSNAMES)
    os.makedirs(OUT, exist_ok=True)
    for csc in (False, True):
        for position in ("end", "middle", "front"):
            kgcoop_dump(model, tok, g, feats, labels, scale, clip, csc, position, 8.0)
    for csc in (False, True):
        for position in ("end", "middle", "front"):
            # Zero-shot predictions from the hand-written prompts ('middle'); for 'end' the teacher is negated and
            # for 'front' its classes are rolled by one, so its knowledge contradicts the labels and the projection
            # is exercised.
            zs_text = {"middle": clip, "end": -clip, "front": torch.roll(clip, 1, dims=0)}[position]
            zs_logits = (scale * feats @ zs_text.T).detach()
            if csc and position == "end":  # a teacher sure of the wrong class: conflicts in CSC too
                zs_logits = 12.0 * F.one_hot((labels + 1) % k, k).float()
            T, lam = (2.0, 0.5) if (csc and position == "middle") else (1.0, 1.0)
            prograd_dump(model, tok, g, feats, labels, scale, zs_logits, csc, position, T, lam)
    tip_dump(model, tok)


if __name__ == "__main__":
    main()
