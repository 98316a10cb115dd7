"""Original model for certified (ALU / Langevin) unlearning: multinomial logistic regression on
digits, the strongly convex setting the certificates of ``jaxunlearn.certify`` cover; a random 1%
of the training set is the deletion request.

    jaxunlearn train --config experiments/configs/digits_logistic.py --workdir runs/digits_logistic
"""

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name="digits", forget_fraction=0.01, seed=0),
        model=ModelConfig(name="logistic_regression"),
        train=TrainConfig(epochs=20, batch_size=128, learning_rate=0.1, weight_decay=0.01,
                          augment=False),
    )
