"""Original model for Fashion-MNIST: the small CNN, 20 epochs of SGD, 10% random forgetting.

Needs the IDX files of Debian's ``dataset-fashion-mnist`` (or ``--set data.data_dir=DIR``):

    jaxunlearn train --config experiments/configs/fashion_mnist_cnn.py --workdir runs/fmnist_cnn
"""

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name="fashion_mnist", forget_fraction=0.1, seed=0),
        model=ModelConfig(name="small_cnn"),
        train=TrainConfig(epochs=20, batch_size=128, learning_rate=0.05, weight_decay=5e-4),
    )
