"""A resumed run's history is whole (issue 17): the checkpoints carry it, with the running sums
of an unfinished epoch, so an interrupted and resumed run returns the same parameters and the
same per-epoch history as an uninterrupted one."""

import jax
import numpy as np
import pytest

from jaxunlearn.config import TrainConfig
from jaxunlearn.data import load_digits
from jaxunlearn.models import create_model_fns
from jaxunlearn.train import train


class Interrupt(Exception):
    pass


def _stop_at(step_to_stop):
    def callback(step, metrics):
        del metrics
        if step == step_to_stop:
            raise Interrupt
    return callback


@pytest.mark.parametrize("stop", [9, 12])  # mid-epoch (7 steps per epoch) and mid-epoch 2
def test_interrupted_run_resumes_with_the_whole_history(tmp_path, stop):
    train_set, _ = load_digits()
    data = train_set.subset(np.arange(200))
    fns = create_model_fns("mlp", 10, hidden_sizes=(16,))
    variables = fns.init(jax.random.key(0), np.asarray(data.inputs[:1]))
    # 200 / 32 → 7 steps an epoch; checkpoints every 2 steps, so some fall mid-epoch
    config = TrainConfig(epochs=3, batch_size=32, learning_rate=0.05, checkpoint_every_steps=2)
    whole = train(fns.apply, variables, data, config, progress=False,
                  workdir=str(tmp_path / "whole"))
    with pytest.raises(Interrupt):
        train(fns.apply, variables, data, config, progress=False,
              workdir=str(tmp_path / "cut"), callbacks=[_stop_at(stop)])
    resumed = train(fns.apply, variables, data, config, progress=False,
                    workdir=str(tmp_path / "cut"))
    # the callback interrupts step `stop` before its checkpoint: the last one is the even step before
    assert resumed.resumed_from == (stop - 1) - (stop - 1) % 2 and resumed.total_steps == 21
    assert resumed.history == whole.history  # every epoch, the interrupted one included
    assert len(resumed.history) == 3
    for a, b in zip(jax.tree.leaves(resumed.variables), jax.tree.leaves(whole.variables)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # a run that is already done restores, trains nothing and keeps its history
    done = train(fns.apply, variables, data, config, progress=False,
                 workdir=str(tmp_path / "whole"))
    assert done.resumed_from == done.total_steps == 21 and done.history == whole.history
