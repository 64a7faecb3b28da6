"""A small CLIP: OpenAI CLIP's architecture with Hugging Face CLIPModel parameter names.

Text tower exactly as CLIP's: token + positional embedding over 77 positions, pre-LN causal blocks with
QuickGELU MLPs, final_layer_norm, the feature at the EOS position (argmax of the ids), text_projection.
Image tower: CLIP's ModifiedResNet style (3-conv stem, anti-aliased bottleneck blocks, attention pooling),
because on two CPU cores a ViT learns shapes far too slowly (see README).
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        b, n, d = x.shape
        h = self.heads
        q = self.q_proj(x).reshape(b, n, h, d // h).transpose(1, 2) * (d // h) ** -0.5
        k = self.k_proj(x).reshape(b, n, h, d // h).transpose(1, 2)
        v = self.v_proj(x).reshape(b, n, h, d // h).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) + mask, dim=-1)
        return self.out_proj((a @ v).transpose(1, 2).reshape(b, n, d))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(d, hidden), QuickGELU(), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(d)
        self.self_attn = Attention(d, heads)
        self.layer_norm2 = nn.LayerNorm(d)
        self.mlp = MLP(d, 4 * d)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, d, layers, heads):
        super().__init__()
        self.layers = nn.ModuleList([Layer(d, heads) for _ in range(layers)])

    def forward(self, x, mask):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class TextEmbeddings(nn.Module):
    def __init__(self, vocab, d, positions):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.position_embedding = nn.Embedding(positions, d)


class TextModel(nn.Module):
    def __init__(self, vocab, d, layers, heads, positions=77):
        super().__init__()
        self.embeddings = TextEmbeddings(vocab, d, positions)
        self.encoder = Encoder(d, layers, heads)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward_embeds(self, x, eos_index):
        """x: [B, N, D] token embeddings (N <= 77, positions 0..N-1). Returns (last_hidden_state, pooled)."""
        n = x.shape[1]
        x = x + self.embeddings.position_embedding.weight[:n]
        mask = torch.full((n, n), float("-inf"), device=x.device).triu(1)
        h = self.final_layer_norm(self.encoder(x, mask))
        return h, h[torch.arange(h.shape[0]), eos_index]

    def forward(self, input_ids):
        return self.forward_embeds(self.embeddings.token_embedding(input_ids), input_ids.argmax(dim=-1))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(inp, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3, self.bn3 = nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inp != planes * 4:
            self.downsample = nn.Sequential(nn.AvgPool2d(stride) if stride > 1 else nn.Identity(),
                                            nn.Conv2d(inp, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class AttentionPool2d(nn.Module):
    def __init__(self, spatial, d, heads, out):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(spatial * spatial + 1, d) / d ** 0.5)
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.c_proj = nn.Linear(d, out)
        self.heads = heads

    def forward(self, x):
        b, c, hh, ww = x.shape
        x = x.flatten(2).transpose(1, 2)  # [B, HW, C]
        x = torch.cat([x.mean(dim=1, keepdim=True), x], dim=1) + self.positional_embedding
        h, dh = self.heads, c // self.heads
        q = self.q_proj(x[:, :1]).reshape(b, 1, h, dh).transpose(1, 2) * dh ** -0.5
        k = self.k_proj(x).reshape(b, -1, h, dh).transpose(1, 2)
        v = self.v_proj(x).reshape(b, -1, h, dh).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        return self.c_proj((a @ v).transpose(1, 2).reshape(b, c))


class VisionModel(nn.Module):
    def __init__(self, image_size, width, layers, heads, out):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width // 2)
        self.conv2, self.bn2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False), nn.BatchNorm2d(width // 2)
        self.conv3, self.bn3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        stages, inp = [], width
        for i, n in enumerate(layers):
            planes = width // 2 * 2 ** i
            blocks = [Bottleneck(inp, planes, stride=1 if i == 0 else 2)]
            inp = planes * 4
            blocks += [Bottleneck(inp, planes) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
        self.layers = nn.ModuleList(stages)
        spatial = image_size // 4 // 2 ** (len(layers) - 1)
        self.attnpool = AttentionPool2d(spatial, inp, heads, out)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.avgpool(F.relu(self.bn3(self.conv3(x))))
        for stage in self.layers:
            x = stage(x)
        return self.attnpool(x)


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        t, v = cfg["text_config"], cfg["vision_config"]
        self.text_model = TextModel(t["vocab_size"], t["hidden_size"], t["num_hidden_layers"], t["num_attention_heads"], t["max_position_embeddings"])
        self.vision_model = VisionModel(v["image_size"], v["width"], v["layers"], v["num_attention_heads"], v["hidden_size"])
        self.text_projection = nn.Linear(t["hidden_size"], cfg["projection_dim"], bias=False)
        self.visual_projection = nn.Linear(v["hidden_size"], cfg["projection_dim"], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self._init(t)

    def _init(self, t):
        # CLIP's initialisation for the text tower.
        d, L = t["hidden_size"], t["num_hidden_layers"]
        nn.init.normal_(self.text_model.embeddings.token_embedding.weight, std=0.02)
        nn.init.normal_(self.text_model.embeddings.position_embedding.weight, std=0.01)
        proj_std, attn_std, fc_std = d ** -0.5 * (2 * L) ** -0.5, d ** -0.5, (2 * d) ** -0.5
        for layer in self.text_model.encoder.layers:
            for lin in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                nn.init.normal_(lin.weight, std=attn_std)
            nn.init.normal_(layer.self_attn.out_proj.weight, std=proj_std)
            nn.init.normal_(layer.mlp.fc1.weight, std=fc_std)
            nn.init.normal_(layer.mlp.fc2.weight, std=proj_std)
        nn.init.normal_(self.text_projection.weight, std=d ** -0.5)

    def encode_image(self, pixels):
        return self.visual_projection(self.vision_model(pixels))

    def encode_text(self, input_ids):
        return self.text_projection(self.text_model(input_ids)[1])

    def encode_text_embeds(self, x, eos_index):
        return self.text_projection(self.text_model.forward_embeds(x, eos_index)[1])


def default_config(vocab_size):
    return {
        "model_type": "clip",
        "architectures": ["CLIPModel"],
        "projection_dim": 128,
        "logit_scale_init_value": 2.6592,
        "text_config": {
            "model_type": "clip_text_model", "vocab_size": vocab_size, "hidden_size": 128, "intermediate_size": 512,
            "num_hidden_layers": 4, "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5, "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1, "pad_token_id": 0,
            "projection_dim": 128,
        },
        "vision_config": {
            "model_type": "clip_vision_model", "architecture": "modified_resnet", "image_size": 64, "num_channels": 3,
            "width": 32, "layers": [2, 2, 2], "num_attention_heads": 4, "hidden_size": 256, "projection_dim": 128,
        },
    }
