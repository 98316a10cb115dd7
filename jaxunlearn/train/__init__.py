"""The training engine: jitted sharded steps, the loop, Orbax checkpoints."""

from jaxunlearn.train.augment import augment, random_crop, random_flip
from jaxunlearn.train.checkpoint import (
    Checkpointer,
    CheckpointError,
    load_variables,
    save_variables,
    tree_digest,
)
from jaxunlearn.train.loop import TrainResult, train, training_transformation
from jaxunlearn.train.optim import make_optimizer, make_schedule
from jaxunlearn.train.sharding import batch_sharded, make_mesh, replicate, replicated
from jaxunlearn.train.steps import (
    TrainState,
    create_train_state,
    epoch_order,
    make_train_step,
    predict_logits,
    state_variables,
    steps_per_epoch,
)

__all__ = [
    "CheckpointError",
    "Checkpointer",
    "TrainResult",
    "TrainState",
    "augment",
    "batch_sharded",
    "create_train_state",
    "epoch_order",
    "load_variables",
    "make_mesh",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "predict_logits",
    "random_crop",
    "random_flip",
    "replicate",
    "replicated",
    "save_variables",
    "state_variables",
    "steps_per_epoch",
    "train",
    "training_transformation",
    "tree_digest",
]
