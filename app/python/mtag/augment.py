"""mtag's seeded augmentation pipeline (the JSON format of ``mtag augment --pipeline`` and ``mtag train``)."""
import json

from . import _mtag
from ._convert import json_text, rate


class Pipeline:
    """Random transforms, each applied with probability ``p`` (audiomentations-style Compose).

    ``config`` is a dict, a JSON string or a path to a JSON file
    (``{"transforms": [{"type": "pitch_shift", "p": 0.5, "semitones": [-4, 4]}, ...]}``; types and keys are
    documented in mtag's dsp/augment_pipeline.hpp), or None for the default pipeline (pitch +-4 semitones,
    stretch 0.8-1.25, coloured noise, seven-band EQ, gain; each p = 0.5). A (seed, clip, epoch) triple always
    gives the same audio, from any thread.
    """

    def __init__(self, config=None, seed=0):
        text, base = ("", "") if config is None else json_text(config, "augmentation")
        self._pipeline = _mtag.AugmentPipeline(text, base, int(seed))

    @property
    def seed(self):
        return self._pipeline.seed

    @property
    def config(self):
        """The configuration with every default filled in (a dict)."""
        return json.loads(self._pipeline.config_json())

    def apply(self, y, sr, clip=0, epoch=0):
        """Returns ``(augmented, applied)``: the audio and, per transform that fired, its drawn parameters."""
        audio, applied = self._pipeline.apply(y, rate(sr), int(clip), int(epoch))
        return audio, json.loads(applied)

    def __call__(self, y, sr, clip=0, epoch=0):
        """The augmented audio (float32)."""
        return self.apply(y, sr, clip, epoch)[0]
