"""CoOp (Zhou et al., IJCV 2022) on the toy CLIP, following KaiyangZhou/CoOp trainers/coop.py and Dassl's schedule.

Prompt assembly, what is frozen, the loss and the schedule are the original's; augmented views are encoded once
and one view per image is drawn per epoch (as the browser does) instead of fresh crops every epoch.
"""
import math
import numpy as np
import torch
import torch.nn.functional as F


class PromptLearner(torch.nn.Module):
    def __init__(self, model, tok, classnames, n_ctx=16, csc=False, position="end", ctx_init=None, seed=0):
        super().__init__()
        emb = model.text_model.embeddings.token_embedding
        d = emb.weight.shape[1]
        g = torch.Generator().manual_seed(seed)
        if ctx_init:
            ctx_init = ctx_init.replace("_", " ")
            n_ctx = len(tok.encode(ctx_init))
            ids = torch.tensor(tok.tokenize([ctx_init]))
            with torch.no_grad():
                ctx = emb(ids)[0, 1:1 + n_ctx].clone()
            prefix_text = ctx_init
            # As the original: word init gives unified context even when CSC is asked for.
        else:
            shape = (len(classnames), n_ctx, d) if csc else (n_ctx, d)
            ctx = torch.randn(*shape, generator=g) * 0.02
            prefix_text = " ".join(["X"] * n_ctx)
        self.ctx = torch.nn.Parameter(ctx)
        names = [n.replace("_", " ") for n in classnames]
        self.name_lens = [len(tok.encode(n)) for n in names]
        self.tokenized = torch.tensor(tok.tokenize([prefix_text + " " + n + "." for n in names]))
        with torch.no_grad():
            e = emb(self.tokenized)
        self.register_buffer("token_prefix", e[:, :1].clone())
        self.register_buffer("token_suffix", e[:, 1 + n_ctx:].clone())
        self.n_ctx, self.position, self.n_cls = n_ctx, position, len(names)

    def forward(self):
        ctx = self.ctx
        if ctx.dim() == 2:
            ctx = ctx.unsqueeze(0).expand(self.n_cls, -1, -1)
        pre, suf = self.token_prefix, self.token_suffix
        if self.position == "end":
            return torch.cat([pre, ctx, suf], dim=1)
        rows = []
        half = self.n_ctx // 2
        for i, nl in enumerate(self.name_lens):
            cls_i, rest = suf[i:i + 1, :nl], suf[i:i + 1, nl:]
            if self.position == "middle":
                rows.append(torch.cat([pre[i:i + 1], ctx[i:i + 1, :half], cls_i, ctx[i:i + 1, half:], rest], dim=1))
            elif self.position == "front":
                rows.append(torch.cat([pre[i:i + 1], cls_i, ctx[i:i + 1], rest], dim=1))
            else:
                raise ValueError(self.position)
        return torch.cat(rows, dim=0)


def text_features(model, learner, cut_at_eos=True):
    """cut_at_eos=False computes all 77 positions as the original; True stops at the last EOS, which is exact
    (under the causal mask no later position reaches an EOS) and about 4x cheaper."""
    prompts, eos = learner(), learner.tokenized.argmax(-1)
    if cut_at_eos:
        prompts = prompts[:, : int(eos.max()) + 1]
    f = model.encode_text_embeds(prompts, eos)
    return f / f.norm(dim=-1, keepdim=True)


def logits_and_loss(model, learner, image_features, labels):
    txt = text_features(model, learner)
    logits = model.logit_scale.exp().clamp(max=100) * image_features @ txt.T
    return logits, F.cross_entropy(logits, labels)


def epochs_for_shots(shots):
    return 50 if shots <= 1 else 100 if shots <= 4 else 200


def lr_at_epoch(epoch, max_epoch, lr=0.002, warmup_epochs=1, warmup_lr=1e-5):
    """Dassl's ConstantWarmupScheduler over CosineAnnealingLR: epoch e >= warmup trains at cosine(e - warmup)."""
    if epoch < warmup_epochs:
        return warmup_lr
    return 0.5 * lr * (1 + math.cos(math.pi * (epoch - warmup_epochs) / max_epoch))


def train(model, tok, classnames, view_features, labels, n_ctx=16, csc=False, position="end", ctx_init=None,
          epochs=None, batch=32, lr=0.002, momentum=0.9, weight_decay=5e-4, seed=0):
    """view_features: [N, V, E] normalized features of V augmented views per training image; labels: [N]."""
    for p in model.parameters():
        p.requires_grad_(False)
    learner = PromptLearner(model, tok, classnames, n_ctx, csc, position, ctx_init, seed)
    opt = torch.optim.SGD([learner.ctx], lr=lr, momentum=momentum, weight_decay=weight_decay)
    n = view_features.shape[0]
    epochs = epochs or epochs_for_shots(n // len(classnames))
    rng = np.random.default_rng(seed)
    labels = torch.as_tensor(labels)
    for epoch in range(epochs):
        for g in opt.param_groups:
            g["lr"] = lr_at_epoch(epoch, epochs, lr)
        order = rng.permutation(n)
        views = rng.integers(0, view_features.shape[1], size=n)
        nb = n // batch if n >= batch else 1  # Dassl drops the last partial batch when it can
        for b in range(nb):
            idx = order[b * batch:(b + 1) * batch]
            feats = view_features[idx, views[idx]]
            _, loss = logits_and_loss(model, learner, feats, labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return learner


@torch.no_grad()
def accuracy(model, learner, feats, labels):
    txt = text_features(model, learner)
    return float(((feats @ txt.T).argmax(-1) == torch.as_tensor(labels)).float().mean())
