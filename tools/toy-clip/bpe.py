"""CLIP's byte-level BPE scheme, with merges learned from our caption vocabulary.

Same cleaning, pre-tokenizer, bytes-to-unicode table, `</w>` suffix and vocabulary order as openai/CLIP's
simple_tokenizer; only the merge list is ours. Captions are ASCII, so the \\p{L}/\\p{N} classes of CLIP's regex
reduce to the ASCII classes used here when learning merges; encoding arbitrary text is the TypeScript tokenizer's job.
"""
import html
import json
import re
from collections import Counter

SOS, EOS = "<|startoftext|>", "<|endoftext|>"
CONTEXT_LENGTH = 77
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+""", re.IGNORECASE)
# CLIP's exact regex, stored in tokenizer.json for readers with Unicode classes.
CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()


def clean(text):
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


def words(text):
    return ["".join(BYTE_ENCODER[b] for b in w.encode("utf-8")) for w in PAT.findall(clean(text))]


def learn_merges(texts):
    freq = Counter(w for t in texts for w in words(t))
    seqs = {w: tuple(w[:-1]) + (w[-1] + "</w>",) for w in freq}
    merges = []
    while True:
        pairs = Counter()
        for w, s in seqs.items():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += freq[w]
        if not pairs:
            return merges
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(c) for c in kv[0][0] + " " + kv[0][1]]))[0]
        merges.append(best)
        for w, s in seqs.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = tuple(out)


class Tokenizer:
    def __init__(self, merges):
        base = list(BYTE_ENCODER.values())
        vocab = base + [v + "</w>" for v in base] + ["".join(m) for m in merges] + [SOS, EOS]
        self.encoder = {v: i for i, v in enumerate(vocab)}
        assert len(self.encoder) == len(vocab), "duplicate vocabulary entries"
        self.merges = merges
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sos, self.eos = self.encoder[SOS], self.encoder[EOS]
        self.cache = {}

    def bpe(self, w):
        if w in self.cache:
            return self.cache[w]
        s = tuple(w[:-1]) + (w[-1] + "</w>",)
        while len(s) > 1:
            pair = min(zip(s, s[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == pair:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            s = tuple(out)
        self.cache[w] = s
        return s

    def encode(self, text):
        return [self.encoder[t] for w in words(text) for t in self.bpe(w)]

    def tokenize(self, texts, context_length=CONTEXT_LENGTH):
        rows = []
        for t in texts:
            ids = [self.sos] + self.encode(t) + [self.eos]
            if len(ids) > context_length:
                raise ValueError(f"'{t}' is {len(ids) - context_length} tokens too long")
            rows.append(ids + [0] * (context_length - len(ids)))
        return rows

    @property
    def vocab_size(self):
        return len(self.encoder)

    def to_hf_json(self):
        """A Hugging Face tokenizer.json laid out as openai/clip-vit-base-patch32's."""
        added = [
            {"id": self.sos, "content": SOS, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True},
            {"id": self.eos, "content": EOS, "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True},
        ]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
                {"type": "Lowercase"},
            ]},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": CLIP_PATTERN}, "behavior": "Removed", "invert": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ]},
            "post_processor": {"type": "RobertaProcessing", "sep": [EOS, self.eos], "cls": [SOS, self.sos], "trim_offsets": False, "add_prefix_space": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": EOS, "continuing_subword_prefix": "", "end_of_word_suffix": "</w>",
                "fuse_unk": False, "byte_fallback": False,
                "vocab": self.encoder,
                "merges": [a + " " + b for a, b in self.merges],
            },
        }


def load_hf_json(path):
    with open(path) as f:
        j = json.load(f)
    return Tokenizer([tuple(m.split(" ")) for m in j["model"]["merges"]])
