"""Models: Flax Linen classifiers, a registry by name, and pure-function adapters.

Every shipped model is a Linen module with fields ``num_classes``, ``dtype`` (computation dtype)
and ``param_dtype``, called as ``module(x, train=False)`` on NHWC float32 images and returning
float32 logits of shape ``(n, num_classes)``. The rest of the library uses them through
:class:`ModelFns` (``from_linen``, ``from_nnx``, ``create_model_fns``). The image-to-image models
(``conv_autoencoder``, ``masked_autoencoder``; :mod:`jaxunlearn.models.autoencoder`) return
reconstructions shaped like their inputs instead, and ignore ``num_classes``.
"""

from jaxunlearn.models.adapters import (
    ModelFns,
    count_params,
    create_model_fns,
    from_linen,
    from_nnx,
)
from jaxunlearn.models.autoencoder import (
    IMAGE_TO_IMAGE_MODELS,
    ConvAutoencoder,
    MaskedAutoencoder,
    encoder_apply,
    is_image_to_image,
)
from jaxunlearn.models.logistic_regression import LogisticRegression
from jaxunlearn.models.mlp import MLP
from jaxunlearn.models.registry import (
    MODELS,
    get_model,
    register_model,
)
from jaxunlearn.models.resnet import BasicBlock, ResNet18, ResNet18NoBN
from jaxunlearn.models.small_cnn import SmallCNN
from jaxunlearn.models.vgg import VGG16BN

__all__ = [
    "BasicBlock",
    "ConvAutoencoder",
    "IMAGE_TO_IMAGE_MODELS",
    "LogisticRegression",
    "MLP",
    "MODELS",
    "MaskedAutoencoder",
    "ModelFns",
    "ResNet18",
    "ResNet18NoBN",
    "SmallCNN",
    "VGG16BN",
    "count_params",
    "create_model_fns",
    "encoder_apply",
    "from_linen",
    "from_nnx",
    "get_model",
    "is_image_to_image",
    "register_model",
]
