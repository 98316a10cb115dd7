"""Original image-to-image model for digits: a convolutional autoencoder trained 40 epochs with
Adam on the reconstruction loss, digit 0 to forget.

    jaxunlearn train --config experiments/i2i/digits_autoencoder.py --workdir runs/digits_ae
    jaxunlearn train --config experiments/i2i/digits_autoencoder.py \
        --workdir runs/digits_ae_retrain --subset retain
    jaxunlearn unlearn --from runs/digits_ae --method i2i_decouple \
        --reference runs/digits_ae_retrain --out runs/digits_ae_decouple
"""

from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig


def get_config() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name="digits", forget_fraction=None, forget_classes=(0,), seed=0),
        model=ModelConfig(name="conv_autoencoder", options={"channels": [16, 32],
                                                            "latent_size": 32}),
        train=TrainConfig(epochs=40, batch_size=64, optimizer="adam", learning_rate=3e-3,
                          weight_decay=0.0, schedule="cosine", augment=False),
    )
