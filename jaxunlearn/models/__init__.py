"""Models: Flax Linen classifiers, a registry by name, and pure-function adapters.

Every shipped model is a Linen module with fields ``num_classes``, ``dtype`` (computation dtype)
and ``param_dtype``, called as ``module(x, train=False)`` on NHWC float32 images and returning
float32 logits of shape ``(n, num_classes)``. The rest of the library uses them through
:class:`ModelFns` (``from_linen``, ``from_nnx``, ``create_model_fns``).
"""

from jaxunlearn.models.adapters import (
    NNX_COLLECTIONS,
    PARAMS,
    ModelFns,
    count_params,
    create_model_fns,
    from_linen,
    from_nnx,
)
from jaxunlearn.models.logistic_regression import LogisticRegression
from jaxunlearn.models.mlp import MLP
from jaxunlearn.models.registry import (
    COMPUTE_DTYPES,
    MODELS,
    get_model,
    register_model,
    resolve_dtype,
)
from jaxunlearn.models.resnet import BasicBlock, ResNet18
from jaxunlearn.models.small_cnn import SmallCNN
from jaxunlearn.models.vgg import VGG16_LAYERS, VGG16BN

__all__ = [
    "BasicBlock",
    "COMPUTE_DTYPES",
    "LogisticRegression",
    "MLP",
    "MODELS",
    "ModelFns",
    "NNX_COLLECTIONS",
    "PARAMS",
    "ResNet18",
    "SmallCNN",
    "VGG16BN",
    "VGG16_LAYERS",
    "count_params",
    "create_model_fns",
    "from_linen",
    "from_nnx",
    "get_model",
    "register_model",
    "resolve_dtype",
]
