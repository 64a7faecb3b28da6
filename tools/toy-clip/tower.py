"""The toy CLIP's text tower with prompts inside it, for the successors' reference dumps (tower_dumps*.py).

`encode_with_deep` is model.TextModel.forward_embeds plus what the successors' text encoders do between blocks:
at the input of block b (b >= 1, before its first layer norm) the hidden states at positions 1..M are replaced by
learnable tokens, shared by every prompt row ([M, D]) or one set per row ([R, M, D]), discarding what block b-1
computed there. This is multimodal-prompt-learning's IVLP text block (language-only deep prompts) and TCP's
ResidualAttentionBlock_MaPLe at counter 8 with weight 1.0 (htyao89/Textual-based_Class-aware_prompt_tuning,
trainers/clip_text/model.py), read, not copied.
"""
import torch


def encode_with_deep(model, prompts, eos_index, deep=None):
    """prompts [R, N, D] input embeddings (positions not added); deep {block: tokens [M, D] or [R, M, D]}.
    Returns text_embeds [R, E] (not normalized), as CLIP's encode_text."""
    tm = model.text_model
    n = prompts.shape[1]
    x = prompts + tm.embeddings.position_embedding.weight[:n]
    mask = torch.full((n, n), float("-inf"), device=x.device).triu(1)
    for b, layer in enumerate(tm.encoder.layers):
        if deep and b in deep and b > 0:
            t = deep[b]
            if t.dim() == 2:
                t = t.unsqueeze(0).expand(x.shape[0], -1, -1)
            m = t.shape[1]
            x = torch.cat([x[:, :1], t, x[:, 1 + m:]], dim=1)
        x = layer(x, mask)
    h = tm.final_layer_norm(x)
    pooled = h[torch.arange(h.shape[0]), eos_index]
    return model.text_projection(pooled)
