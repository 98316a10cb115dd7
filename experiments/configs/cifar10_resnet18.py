"""The unlearning papers' standard original: ResNet-18 on CIFAR-10 (TFDS), 182 epochs of SGD
with lr 0.1, momentum 0.9, weight decay 5e-4, batch 256, crop+flip augmentation (the recipe of
SalUn's and Unlearn-Sparse's code), 10% random forgetting.

    jaxunlearn train --config experiments/configs/cifar10_resnet18.py --workdir runs/cifar10_r18
"""

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name="tfds:cifar10", forget_fraction=0.1, seed=0),
        model=ModelConfig(name="resnet18", dtype="bfloat16"),
        train=TrainConfig(
            epochs=182, batch_size=256, learning_rate=0.1, momentum=0.9, weight_decay=5e-4,
            schedule="step", decay_epochs=(91, 136), decay_factor=0.1,
        ),
    )
