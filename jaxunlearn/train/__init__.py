"""The engine: the state, the jitted sharded steps, the one loop, model pools, Orbax checkpoints.

Every run goes through it: :func:`train` (one model), :func:`train_many` (a pool of M models in
one vmapped program), and :func:`jaxunlearn.methods.unlearn` / ``unlearn_many``, whose step
(:mod:`jaxunlearn.methods.step`) runs on the same :func:`~jaxunlearn.train.loop.run_loop`.
"""

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
from jaxunlearn.train.pools import (
    MODEL_AXIS,
    num_models,
    stack_models,
    train_many,
    train_original_and_retrained,
    train_sequential,
    unstack_model,
)
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
    "MODEL_AXIS",
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
    "num_models",
    "predict_logits",
    "random_crop",
    "random_flip",
    "replicate",
    "replicated",
    "save_variables",
    "stack_models",
    "state_variables",
    "steps_per_epoch",
    "train",
    "train_many",
    "train_original_and_retrained",
    "train_sequential",
    "training_transformation",
    "tree_digest",
    "unstack_model",
]
