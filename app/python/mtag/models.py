"""Trained runs: mtag.Tagger (the engine of ``mtag tag``) and mtag.read_run."""
import json
import os

from . import _mtag
from ._convert import audio_path, is_file_like


class Tagger:
    """A trained run applied to audio, exactly as ``mtag tag --model RUN`` applies it.

    ``run_or_name`` is a run directory (``model.json`` + ``model.safetensors``, what ``mtag train`` writes) or a
    published model's name (``mtag model list``; fetched into ``$MTAG_HOME`` on first use). Inputs are a file
    path or a 1-D signal at ``sr`` (default: the run's rate; resampled otherwise). ``chunks="all"`` scores every
    non-overlapping chunk (``mtag tag``'s default), ``"card"`` the run's evaluation layout. A path may also be an
    open binary file object (``open(p, "rb")``, ``io.BytesIO``), decoded from a temporary copy as mtag.load does.
    """

    def __init__(self, run_or_name):
        self._tagger = _mtag.Tagger(os.fspath(run_or_name))

    @property
    def tags(self):
        """The output tags, in score order."""
        return list(self._tagger.tags)

    @property
    def sample_rate(self):
        return self._tagger.sample_rate

    @property
    def embedding_size(self):
        return self._tagger.embedding_size

    def _run(self, x, sr, chunks, embedding=False, taggram=False, batch_size=8, res_type="soxr_hq"):
        if is_file_like(x) or isinstance(x, os.PathLike):
            with audio_path(x, "path_or_array") as p:
                return self._run(p, sr, chunks, embedding, taggram, batch_size, res_type)
        return self._tagger.tag(x, None if sr is None else int(sr), str(chunks), int(batch_size), embedding, taggram,
                                str(res_type))

    def tag(self, path_or_array, sr=None, top_k=5, chunks="all", threshold=None):
        """Tag a file or signal: ``{"tags": [{"tag", "score"}, ...] (best first, top_k of them or all with
        threshold), "scores": {tag: score}, "duration_seconds", "chunks"}``."""
        r = self._run(path_or_array, sr, chunks)
        scores = {tag: float(s) for tag, s in zip(self._tagger.tags, r["scores"])}
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if threshold is not None:
            ranked = [kv for kv in ranked if kv[1] >= threshold]
        if top_k is not None:
            ranked = ranked[: int(top_k)]
        return {"tags": [{"tag": t, "score": s} for t, s in ranked], "scores": scores,
                "duration_seconds": r["duration_seconds"], "chunks": r["chunks"]}

    def embeddings(self, path_or_array, sr=None, chunks="all"):
        """The penultimate layer's output averaged over chunks, float32 ``[embedding_size]``."""
        return self._run(path_or_array, sr, chunks, embedding=True)["embedding"]

    def taggram(self, path_or_array, sr=None, chunks="all"):
        """Scores per chunk, float32 ``[chunks, n_tags]`` (columns in :attr:`tags` order)."""
        return self._run(path_or_array, sr, chunks, taggram=True)["taggram"]


def read_run(run_dir):
    """What a run directory says about itself.

    Returns ``{"card": model.json's card (preset, options, front end, tags, normalisation, ...),
    "log": log.jsonl as a list of dicts (one per epoch or event; [] when absent),
    "eval": the validation results of the saved weights (``roc_auc_macro``, ``pr_auc_macro``, ``val_loss``, ...,
    with ``metric`` and ``best_epoch``; {} for an imported model)}``. The card's ``training`` entry keeps the
    whole training summary (config, dataset, timings).
    Raises FileNotFoundError for a missing run, RuntimeError for an invalid card.
    """
    run_dir = os.fspath(run_dir)
    card = json.loads(_mtag.read_card(run_dir))
    log = []
    log_path = os.path.join(run_dir, "log.jsonl")
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            log = [json.loads(line) for line in f if line.strip()]
    training = card.get("training", {})
    results = dict(training.get("validation", {}))
    for key in ("metric", "best_epoch"):
        if key in training:
            results[key] = training[key]
    return {"card": card, "log": log, "eval": results}
