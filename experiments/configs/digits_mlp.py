"""Original model for digits: an MLP trained 30 epochs with SGD, 10% random forgetting.

    jaxunlearn train --config experiments/configs/digits_mlp.py --workdir runs/digits_mlp
"""

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name="digits", forget_fraction=0.1, seed=0),
        model=ModelConfig(name="mlp", options={"hidden_sizes": [256, 256]}),
        train=TrainConfig(epochs=30, batch_size=64, learning_rate=0.05, weight_decay=5e-4),
    )
