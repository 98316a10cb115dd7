"""Spectral-norm clipping (FastClip) in the shared transform harness."""

from transform_harness import EXAMPLE_LAYER_INPUT_SHAPES, TransformCase

from jaxunlearn.spectral import LayerSpec
from jaxunlearn.transforms.spectral import clip_spectral_norm

# Conv_0 is a stride-1 SAME convolution on 6x6x2 inputs, Dense_0 takes 8 features.
LAYERS = {
    "Conv_0": LayerSpec.conv(EXAMPLE_LAYER_INPUT_SHAPES["Conv_0"], strides=1, padding="SAME"),
    "Dense_0": LayerSpec.dense(EXAMPLE_LAYER_INPUT_SHAPES["Dense_0"][-1]),
}
DENSE_ONLY = {"Dense_0": LAYERS["Dense_0"]}  # Conv_0 passes through untouched

CASES = [
    TransformCase(
        name="clip_spectral_norm",
        make=lambda: clip_spectral_norm(1.0, LAYERS),
        inject=(clip_spectral_norm, {"max_norm": 1.0, "layers": LAYERS}),
        stochastic=True,
    ),
    # every other step, a block of two vectors, integer hyperparameters injected (traced)
    TransformCase(
        name="clip_spectral_norm_dense_every_2_steps",
        make=lambda: clip_spectral_norm(
            2.0, DENSE_ONLY, every_k_steps=2, num_iterations=2, num_rounds=3, num_vectors=2,
            seed=3,
        ),
        inject=(
            clip_spectral_norm,
            {"max_norm": 2.0, "layers": DENSE_ONLY, "every_k_steps": 2, "num_rounds": 3},
        ),
        stochastic=True,
    ),
]
