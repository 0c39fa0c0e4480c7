"""The packaged all-MiniLM-L6-v2 with its Linear layers dynamically quantised to int8 (torch, no new package) against
the fp32 model the product uses: speed ratio, how close the vectors stay, and the dense retrieval effect on a dev set.

    .venv/bin/python benchmarks/bench_embed_int8.py [--texts 64] [--rounds 2] [--others-every 16] [--schemes ...]

- Speed: the same SciFact abstracts (most fill the 256-wordpiece window, like prose chunks) encoded by fp32 and each
  int8 scheme in turn, `--rounds` times alternating, 1 torch thread; the ratio is fp32 seconds / int8 seconds per
  round (compare ratios, not seconds, on a loaded machine).
- Closeness: cosine between each text's fp32 and int8 vectors (min, mean).
- Retrieval: SciFact *train* claims (dev; BEIR's test claims are never used here) against a corpus of every abstract
  they cite plus one in `--others-every` of the rest (by a hash of the doc id); one vector per abstract (truncated at
  256 wordpieces), nDCG@10 and recall@100, fp32 vs each scheme.

Schemes: `per_tensor` (torch's default dynamic qconfig), `per_channel` (one scale per output row), `per_channel_attn`
(per-channel, attention projections only; the feed-forward layers stay fp32). Asked for by name (not in the default
list): the model exported by `torch.onnx` and run by onnxruntime (installed, a chromadb dependency) in fp32
(`onnx_fp32`) and with onnxruntime's dynamic per-channel int8 (`onnx_int8`). Exporting needs the `onnx` package,
which is NOT in the venv: put it on PYTHONPATH from a scratch `pip install --no-deps --target DIR onnx ml_dtypes`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.index.embedding import packaged_model_path
from assistant.offline import apply_offline_env
from evals.datasets import load_scifact
from evals.suites import ranking_metrics

SCHEMES = ("per_tensor", "per_channel", "per_channel_attn", "onnx_fp32", "onnx_int8")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxMiniLM:
    """The exported BERT run by onnxruntime at one thread, mean-pooled and normalised as the packaged model is."""

    def __init__(self, fp32: Any, scheme: str, workdir: Path) -> None:
        import onnxruntime as ort
        import torch

        self.tokenizer, self.max_len = fp32.tokenizer, fp32.max_seq_length
        path = workdir / "minilm.onnx"
        if not path.exists():
            bert = fp32[0].auto_model.eval()

            class Wrapped(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.bert = bert

                def forward(self, ids: Any, mask: Any, types: Any) -> Any:
                    return self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state

            sample = self.tokenizer(["a b", "c"], padding=True, return_tensors="pt")
            torch.onnx.export(Wrapped(), tuple(sample[k] for k in INPUTS), str(path), input_names=list(INPUTS),
                              output_names=["hidden"], opset_version=17, dynamo=False,
                              dynamic_axes={k: {0: "batch", 1: "seq"} for k in (*INPUTS, "hidden")})
        if scheme == "onnx_int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            qpath = workdir / "minilm_int8.onnx"
            quantize_dynamic(str(path), str(qpath), weight_type=QuantType.QInt8, per_channel=True)
            path = qpath
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 32, **_: Any) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                                 max_length=self.max_len, return_tensors="np")
            hidden = self.session.run(None, {k: enc[k].astype(np.int64) for k in INPUTS})[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            vec = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out.append(vec / np.linalg.norm(vec, axis=1, keepdims=True))
        return np.concatenate(out).astype(np.float32)


def load_model(scheme: str, max_seq_length: int) -> Any:
    import torch
    from sentence_transformers import SentenceTransformer
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    model = SentenceTransformer(packaged_model_path(), device="cpu")
    model.max_seq_length = max_seq_length
    if scheme == "fp32":
        return model
    bert = model[0].auto_model
    linear = [n for n, m in bert.named_modules() if isinstance(m, torch.nn.Linear)]
    if scheme == "per_tensor":
        spec: dict[Any, Any] = {torch.nn.Linear: default_dynamic_qconfig}
    elif scheme == "per_channel":
        spec = {torch.nn.Linear: per_channel_dynamic_qconfig}
    else:
        spec = {n: per_channel_dynamic_qconfig for n in linear if ".attention." in n}
    quantize_dynamic(bert, spec, inplace=True)  # in place: the model's own module is the one encode() runs
    return model


def encode(model: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32), time.perf_counter() - start


def retrieval(model: Any, docs: list[tuple[str, str]], queries: dict[str, str],
              qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    dvec, _ = encode(model, [t for _, t in docs])
    qids = sorted(queries)
    qvec, _ = encode(model, [queries[q] for q in qids])
    order = np.argsort(-(qvec @ dvec.T), axis=1)[:, :100]
    runs = {q: [docs[j][0] for j in row] for q, row in zip(qids, order, strict=True)}
    return {k: round(v, 4) for k, v in ranking_metrics(runs, qrels).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--others-every", type=int, default=16)
    parser.add_argument("--schemes", nargs="+", default=list(SCHEMES[:3]), choices=SCHEMES)
    parser.add_argument("--no-retrieval", action="store_true")
    args = parser.parse_args()
    apply_offline_env()
    import torch

    settings = load_settings()
    torch.set_num_threads(max(1, settings.embedding.torch_threads))
    sf = load_scifact(settings.eval_data)
    texts = [d.text for d in sf.corpus[: args.texts]]
    models = {s: load_model(s, settings.embedding.max_seq_length) for s in ["fp32", *args.schemes]
              if not s.startswith("onnx")}
    workdir = Path(tempfile.mkdtemp(prefix="bench_onnx_"))
    for scheme in args.schemes:
        if scheme.startswith("onnx"):
            models[scheme] = OnnxMiniLM(models["fp32"], scheme, workdir)
    for model in models.values():
        encode(model, texts[:4])  # warm up
    seconds: dict[str, list[float]] = {s: [] for s in models}
    vectors: dict[str, np.ndarray] = {}
    for rnd in range(args.rounds):
        for scheme, model in models.items():
            vectors[scheme], took = encode(model, texts)
            seconds[scheme].append(round(took, 2))
        print(json.dumps({"round": rnd, "seconds": {s: v[-1] for s, v in seconds.items()},
                          "load": round(os.getloadavg()[0], 1)}), flush=True)
    out: dict[str, Any] = {"texts": len(texts), "rounds": args.rounds, "threads": torch.get_num_threads(),
                           "engine": torch.backends.quantized.engine, "seconds": seconds, "schemes": {}}
    for scheme in args.schemes:
        cos = (vectors[scheme] * vectors["fp32"]).sum(axis=1)
        ratios = [a / b for a, b in zip(seconds["fp32"], seconds[scheme], strict=True)]
        out["schemes"][scheme] = {"speed_ratio_median": round(float(np.median(ratios)), 3),
                                  "cos_min": round(float(cos.min()), 5), "cos_mean": round(float(cos.mean()), 5)}
    if not args.no_retrieval:
        cited = {d for rel in sf.train_qrels.values() for d in rel}
        keep = [(d.doc_id, d.text) for d in sf.corpus if d.doc_id in cited
                or int(hashlib.sha256(d.doc_id.encode()).hexdigest(), 16) % args.others_every == 0]
        out["retrieval_docs"], out["retrieval_queries"] = len(keep), len(sf.train_queries)
        for scheme, model in models.items():
            out.setdefault("retrieval", {})[scheme] = retrieval(model, keep, sf.train_queries, sf.train_qrels)
            print(json.dumps({"retrieval": scheme, **out["retrieval"][scheme]}), flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
