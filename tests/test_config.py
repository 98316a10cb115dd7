"""Config validation, config files and command-line overrides."""

import dataclasses
import math

import pytest

from jaxunlearn.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    apply_overrides,
    load_config_file,
    to_dict,
)


def test_overrides_parse_each_field_type():
    config = apply_overrides(
        ExperimentConfig(),
        [
            "train.learning_rate=0.05",
            "train.epochs=7",
            "train.nesterov=true",
            "train.decay_epochs=3,6",
            "data.forget_fraction=none",
            "data.forget_classes=2,5",
            "model.options={\"hidden_sizes\": [32]}",
            "model.dtype=bfloat16",
        ],
    )
    assert config.train.learning_rate == 0.05 and isinstance(config.train.learning_rate, float)
    assert config.train.epochs == 7 and config.train.nesterov is True
    assert config.train.decay_epochs == (3, 6)
    assert config.data.forget_fraction is None and config.data.forget_classes == (2, 5)
    assert config.model.options == {"hidden_sizes": [32]} and config.model.dtype == "bfloat16"
    # the original is untouched (frozen dataclasses are replaced, not mutated)
    assert ExperimentConfig().train.learning_rate == 0.1


@pytest.mark.parametrize(
    "override, match",
    [
        ("train.learning_rate=-1", "train.learning_rate"),
        ("train.learning_rate=nan", "train.learning_rate"),
        ("train.learning_rate=inf", "train.learning_rate"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.epochs=abc", "train.epochs"),
        ("train.optimizer=lbfgs", "train.optimizer"),
        ("train.momentum=1.0", "train.momentum"),
        ("train.no_such_field=1", "no_such_field"),
        ("nosection.lr=1", "nosection"),
        ("data.forget_fraction=1.5", "data.forget_fraction"),
        ("data.forget_fraction=0", "data.forget_fraction"),
        ("data.forget_classes=1", "forget_classes"),  # two forget requests at once
        ("data.public_corruption=-0.1", "data.public_corruption"),
        ("model.dtype=float8", "model.dtype"),
        ("train.learning_rate", "section.field=value"),
    ],
)
def test_bad_values_raise_value_error_naming_the_field(override, match):
    with pytest.raises(ValueError, match=match):
        apply_overrides(ExperimentConfig(), [override])


def test_type_errors_name_the_field():
    with pytest.raises(TypeError, match="train.epochs"):
        TrainConfig(epochs=2.5)
    with pytest.raises(TypeError, match="train.learning_rate"):
        TrainConfig(learning_rate="0.1")
    with pytest.raises(TypeError, match="model.options"):
        ModelConfig(options=[1])


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().epochs = 3


def test_split_kwargs_forwards_exactly_one_forget_request():
    assert DataConfig(forget_fraction=0.2).split_kwargs() == {"seed": 0, "forget_fraction": 0.2}
    kwargs = DataConfig(forget_fraction=None, forget_classes=(1, 2), seed=4).split_kwargs()
    assert kwargs == {"seed": 4, "forget_classes": [1, 2]}
    kwargs = DataConfig(forget_fraction=None, forget_indices=(0, 9), public_fraction=0.5).split_kwargs()
    assert kwargs["forget_indices"] == [0, 9] and kwargs["public_fraction"] == 0.5


def test_load_config_file(tmp_path):
    path = tmp_path / "my_config.py"
    path.write_text(
        "from jaxunlearn.config import ExperimentConfig, TrainConfig\n"
        "def get_config():\n    return ExperimentConfig(train=TrainConfig(epochs=3))\n"
    )
    config = load_config_file(path)
    assert config.train.epochs == 3
    assert to_dict(config)["train"]["epochs"] == 3
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config_file(tmp_path / "missing.py")
    (tmp_path / "bad.py").write_text("x = 1\n")
    with pytest.raises(ValueError, match="get_config"):
        load_config_file(tmp_path / "bad.py")


def test_shipped_configs_load():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "configs"
    files = sorted(root.glob("*.py"))
    assert files
    for path in files:
        config = load_config_file(path)
        assert isinstance(config, ExperimentConfig)
        assert math.isfinite(config.train.learning_rate)
