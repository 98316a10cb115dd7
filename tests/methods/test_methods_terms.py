"""Each method's loss terms, schedule and labels against closed forms in NumPy float64.

- Every term of every method, evaluated on a batch with padding (weight 0), equals its formula
  (weighted mean over the real examples): −CE for gradient ascent, β·CE_r and −(1−β)·CE_f for
  NegGrad+, −KL_T and α·KL_T + γ·CE for SCRUB, the soft cross-entropy to the TRW target rows the
  batch indices pick, CE + γ(1 − e/E)₊‖θ‖₁ for ℓ1-sparse at chosen steps.
- SCRUB's schedule: the forget (max-step) term is active exactly for steps < E_max · steps/epoch.
- ``random_label`` draws fixed labels y′ ≠ y once (and the run trains on exactly those);
  ``srl`` re-draws labels from all classes, the true one included, at every access.
- ℓ1-sparse with a large γ ends with a smaller ‖θ‖₁ than fine-tuning at the same settings.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

from jaxunlearn.data import make_splits
from jaxunlearn.losses import random_other_labels
from jaxunlearn.methods import METHODS, Batch, TermContext, unlearn
from jaxunlearn.methods.boundary_expanding import SHADOW
from jaxunlearn.methods.i2i import IMAGE_TO_IMAGE_METHODS
from jaxunlearn.methods.random_label import _prepare_fixed_labels
from jaxunlearn.models import create_model_fns
from method_helpers import identical, mlp_logits_float64, trained_digits_mlp

NUM_CLASSES = 10
BATCH = 8


# --- NumPy references ---------------------------------------------------------------------------


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _weighted_mean(values, weights):
    return float(np.sum(values * weights) / max(np.sum(weights), 1.0))


def _ce(logits, labels, weights):
    return _weighted_mean(-_log_softmax(logits)[np.arange(len(labels)), labels], weights)


def _kl(student_logits, teacher_logits, weights, temperature):
    teacher = _log_softmax(teacher_logits / temperature)
    student = _log_softmax(student_logits / temperature)
    return _weighted_mean(np.sum(np.exp(teacher) * (teacher - student), axis=1), weights)


def _soft_ce(logits, targets, weights):
    return _weighted_mean(-np.sum(targets * _log_softmax(logits), axis=1), weights)


def _fgsm_labels(teacher_params, inputs, labels, bound):
    """Boundary Shrink's neighbour labels for the MLP in float64: the teacher's argmax at
    x + bound · sign(∂CE/∂x), the input gradient by hand-written backpropagation."""
    x = np.asarray(inputs, np.float64).reshape(len(inputs), -1)
    names = sorted(name for name in teacher_params if name.startswith("hidden_")) + ["head"]
    kernels = [np.asarray(teacher_params[n]["kernel"], np.float64) for n in names]
    biases = [np.asarray(teacher_params[n]["bias"], np.float64) for n in names]
    activations, pre = [x], []
    for index, (kernel, bias) in enumerate(zip(kernels, biases)):
        z = activations[-1] @ kernel + bias
        pre.append(z)
        activations.append(z if index == len(kernels) - 1 else np.maximum(z, 0.0))
    delta = np.exp(_log_softmax(activations[-1]))
    delta[np.arange(len(labels)), labels] -= 1.0
    for index in range(len(kernels) - 1, -1, -1):
        delta = delta @ kernels[index].T
        if index > 0:
            delta = delta * (pre[index - 1] > 0)
    moved = (x + bound * np.sign(delta)).reshape(np.shape(inputs))
    return mlp_logits_float64(teacher_params, moved).argmax(axis=1)


def _l1(params):
    return sum(np.abs(np.asarray(leaf, np.float64)).sum()
               for leaf in jax.tree_util.tree_leaves(params))


# --- a tiny problem -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    fns = create_model_fns("mlp", NUM_CLASSES, hidden_sizes=(16,))
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((BATCH, 8, 8, 1)).astype(np.float32)
    student = fns.init(jax.random.key(1), inputs[:1])
    teacher = fns.init(jax.random.key(2), inputs[:1])
    # 3x larger logits so that the terms are far from their values at uniform outputs
    student = jax.tree_util.tree_map(lambda leaf: 3.0 * leaf, student)
    labels = rng.integers(0, NUM_CLASSES, BATCH).astype(np.int32)
    weights = np.array([1, 1, 1, 1, 1, 1, 0, 0], np.float32)  # two padding rows
    indices = np.array([4, 0, 9, 3, 7, 1, 2, 2], np.int32)
    targets = rng.dirichlet(np.ones(NUM_CLASSES), size=12)
    targets[:, 5] = 0.0
    targets = (targets / targets.sum(axis=1, keepdims=True)).astype(np.float32)
    batch = Batch(jnp.asarray(inputs), jnp.asarray(labels), jnp.asarray(weights),
                  jnp.asarray(indices))
    return dict(fns=fns, student=student, teacher=teacher, batch=batch, inputs=inputs,
                labels=labels, weights=weights, indices=indices, targets=targets)


def _scar_aux():
    """SCAR's statistics for the tiny MLP (feature width 16, 4 candidate classes): normalised
    positive means, SPD inverse correlations, a target class per forget row, class 5 forgotten."""
    rng = np.random.default_rng(7)
    means = rng.random((4, 16)) + 0.1
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    factors = rng.normal(size=(4, 16, 16))
    inverses = factors @ factors.transpose(0, 2, 1) / 16 + np.eye(16)
    return {"means": means, "inverses": inverses, "targets": rng.integers(0, 4, 12),
            "forgotten": np.array([5])}


def _context(tiny, name, hyper_overrides=None, step=0, steps_per_epoch=10):
    hyper = METHODS[name].hyperparameters(hyper_overrides)
    aux = {"teacher": tiny["teacher"], "targets": jnp.asarray(tiny["targets"]),
           "pixel_mean": jnp.zeros((1,)), "pixel_std": jnp.ones((1,))}
    if name == "scar":
        scar = _scar_aux()
        aux.update(means=jnp.asarray(scar["means"], jnp.float32),
                   inverses=jnp.asarray(scar["inverses"], jnp.float32),
                   targets=jnp.asarray(scar["targets"], jnp.int32),
                   forgotten=jnp.asarray(scar["forgotten"], jnp.int32))
    forget_batch = None
    if name == "l2ul":  # θ₀ the teacher, random importances; the forget batch reversed
        l2ul = _l2ul_extras(tiny)
        aux.update(origin=tiny["teacher"]["params"], importance=l2ul["importance"],
                   adversarial_batch=jnp.float32(10.0))
        forget_batch = l2ul["forget_batch"]
    return TermContext(tiny["fns"].apply, aux, hyper, jax.random.key(0), jnp.int32(step),
                       steps_per_epoch, NUM_CLASSES, forget_batch)


def _l2ul_extras(tiny):
    """ℓ2-UL's Ω̂ (uniform in [0, 1], one per parameter) and the step's forget batch, 5 real rows
    (the tiny batch's inputs reversed, other labels), which its retain term counts."""
    rng = np.random.default_rng(11)
    importance = jax.tree.map(lambda leaf: jnp.asarray(rng.random(leaf.shape), jnp.float32),
                              tiny["teacher"]["params"])
    weights = np.array([1, 1, 1, 1, 1, 0, 0, 0], np.float32)
    labels = (tiny["labels"] + 3) % NUM_CLASSES
    batch = Batch(jnp.asarray(tiny["inputs"][::-1]), jnp.asarray(labels), jnp.asarray(weights),
                  jnp.asarray(tiny["indices"]))
    return {"importance": importance, "forget_batch": batch, "inputs": tiny["inputs"][::-1],
            "labels": labels, "weights": weights}


def _shadow_row(tiny):
    """A fixed shadow class row for Boundary Expanding (input width 16, the hidden layer's)."""
    rng = np.random.default_rng(5)
    return {"kernel": rng.normal(0.0, 0.5, (16, 1)).astype(np.float32),
            "bias": np.array([0.3], np.float32)}


def _term_value(tiny, name, part, context):
    term = getattr(METHODS[name], f"{part}_term")
    params = tiny["student"]["params"]
    if name == "boundary_expanding":
        params = {**params, SHADOW: jax.tree.map(jnp.asarray, _shadow_row(tiny))}
    loss, _ = jax.jit(lambda p: term(p, {}, tiny["batch"], context))(params)
    return float(loss)


def _expected(tiny, name, part, hyper):
    logits = mlp_logits_float64(tiny["student"]["params"], tiny["inputs"])
    teacher = mlp_logits_float64(tiny["teacher"]["params"], tiny["inputs"])
    labels, weights = tiny["labels"], tiny["weights"]
    ce = _ce(logits, labels, weights)
    if (name, part) == ("gradient_ascent", "forget"):
        return -ce
    if name == "neggrad_plus":
        return -(1 - hyper["beta"]) * ce if part == "forget" else hyper["beta"] * ce
    if name == "scrub":
        kl = _kl(logits, teacher, weights, hyper["temperature"])
        return -kl if part == "forget" else hyper["alpha"] * kl + hyper["gamma"] * ce
    if (name, part) == ("trw", "forget"):
        return _soft_ce(logits, tiny["targets"][tiny["indices"]].astype(np.float64), weights)
    if (name, part) == ("boundary_shrink", "forget"):
        neighbours = _fgsm_labels(tiny["teacher"]["params"], tiny["inputs"], labels,
                                  hyper["bound"])
        assert np.mean(neighbours != labels) > 0.5  # the step crosses boundaries: not y again
        return _ce(logits, neighbours, weights)
    if (name, part) == ("boundary_expanding", "forget"):
        # CE towards the shadow class C of [logits, h k + c], h the head's input (ReLU layer)
        student = tiny["student"]["params"]
        x = np.asarray(tiny["inputs"], np.float64).reshape(BATCH, -1)
        hidden = np.maximum(x @ np.asarray(student["hidden_0"]["kernel"], np.float64)
                            + np.asarray(student["hidden_0"]["bias"], np.float64), 0.0)
        row = _shadow_row(tiny)
        shadow = hidden @ row["kernel"].astype(np.float64) + row["bias"].astype(np.float64)
        widened = np.concatenate([logits, shadow], axis=1)
        return _ce(widened, np.full(BATCH, NUM_CLASSES), weights)
    if name == "scar":
        scar = _scar_aux()
        if part == "forget":  # λ1 · mean squared Mahalanobis distance to each row's target
            student = tiny["student"]["params"]
            x = np.asarray(tiny["inputs"], np.float64).reshape(BATCH, -1)
            hidden = np.maximum(x @ np.asarray(student["hidden_0"]["kernel"], np.float64)
                                + np.asarray(student["hidden_0"]["bias"], np.float64), 0.0)
            z = np.sqrt(hidden)
            z /= np.linalg.norm(z, axis=1, keepdims=True)
            target = scar["targets"][tiny["indices"]]
            diff = z - scar["means"][target]
            distance = np.einsum("bd,bde,be->b", diff, scar["inverses"][target], diff)
            return hyper["lambda_forget"] * _weighted_mean(distance, weights)
        keep = weights * (teacher.argmax(axis=1) != 5)  # rows the teacher calls 5 are dropped
        floored = teacher.copy()
        floored[:, 5] = teacher[keep > 0].min()
        return hyper["lambda_retain"] * _kl(logits * hyper["temperature"], floored, keep,
                                            hyper["temperature"])
    if name == "l2ul":  # n_f, n_a: the forget batch's rows and the adversarial batch's
        extras = _l2ul_extras(tiny)
        if part == "forget":  # −CE_f n_f/(n_f + n_a), n_a nominal (10 in the aux)
            return -ce * weights.sum() / (weights.sum() + 10.0)
        penalty = sum(np.sum(np.asarray(w, np.float64) * (np.asarray(p, np.float64)
                                                           - np.asarray(p0, np.float64)) ** 2)
                      for w, p, p0 in zip(jax.tree.leaves(extras["importance"]),
                                          jax.tree.leaves(tiny["student"]["params"]),
                                          jax.tree.leaves(tiny["teacher"]["params"])))
        n_adv, n_forget = weights.sum(), extras["weights"].sum()  # CE_a n_a/(n_a + n_f) + reg
        return ce * n_adv / (n_adv + n_forget) + hyper["reg_lambda"] * penalty / 2
    if (name, part) == ("l1_sparse", "retain"):
        return ce + hyper["gamma"] * _l1(tiny["student"]["params"])  # step 0: full γ
    if part == "forget" and hyper.get("alpha_l1"):  # amun_l1 at epoch 0: the full α
        return ce + hyper["alpha_l1"] * _l1(tiny["student"]["params"])
    return ce  # CE with the batch's own labels: every other deterministic term


CLASSIFIER_METHODS = sorted(set(METHODS) - set(IMAGE_TO_IMAGE_METHODS))
DETERMINISTIC_TERMS = [
    (name, part) for name in CLASSIFIER_METHODS for part in ("forget", "retain")
    if getattr(METHODS[name], f"{part}_term") is not None and (name, part) != ("srl", "forget")
]


def test_terms_cover_every_method():
    assert {name for name, _ in DETERMINISTIC_TERMS} == set(CLASSIFIER_METHODS)


@pytest.mark.parametrize("name, part", DETERMINISTIC_TERMS)
def test_term_equals_its_closed_form(tiny, name, part):
    overrides = {"neggrad_plus": {"beta": 0.7}, "scrub": {"alpha": 0.3, "gamma": 1.5,
                                                           "temperature": 3.0},
                 "l1_sparse": {"gamma": 0.01}, "scar": {"temperature": 2.0},
                 "l2ul": {"reg_lambda": 0.7},
                 # the tiny inputs are standard normal, not pixels: step in their coordinates
                 "boundary_shrink": {"bound": 0.5, "clamp_pixels": False}}.get(name)
    context = _context(tiny, name, overrides)
    value = _term_value(tiny, name, part, context)
    expected = _expected(tiny, name, part, context.hyper)
    assert abs(expected) > 1e-2  # the check is not of two zeros
    np.testing.assert_allclose(value, expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("step, factor", [(0, 1.0), (9, 1.0), (10, 0.75), (25, 0.5), (39, 0.25),
                                          (40, 0.0), (57, 0.0)])
def test_l1_sparse_gamma_decays_linearly_per_epoch(tiny, step, factor):
    """γ_t = γ (1 − e/E)₊ with e = step // steps_per_epoch; here E = 4, 10 steps per epoch."""
    context = _context(tiny, "l1_sparse", {"gamma": 0.01, "epochs": 4}, step=step,
                       steps_per_epoch=10)
    value = _term_value(tiny, "l1_sparse", "retain", context)
    logits = mlp_logits_float64(tiny["student"]["params"], tiny["inputs"])
    expected = (_ce(logits, tiny["labels"], tiny["weights"])
                + 0.01 * factor * _l1(tiny["student"]["params"]))
    np.testing.assert_allclose(value, expected, rtol=2e-5)


@pytest.mark.parametrize("max_steps_epochs, steps_per_epoch", [(3, 7), (1, 10), (0, 5), (2, 1)])
def test_scrub_schedule_activates_the_forget_term_for_the_first_epochs(max_steps_epochs,
                                                                       steps_per_epoch):
    schedule = jax.jit(jax.vmap(
        lambda step: METHODS["scrub"].schedule(step, steps_per_epoch,
                                               {"max_steps_epochs": max_steps_epochs})))
    steps = np.arange(0, 6 * steps_per_epoch + 3)
    forget_active, retain_active = schedule(jnp.asarray(steps, jnp.int32))
    expected = (steps < max_steps_epochs * steps_per_epoch).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(forget_active), expected)
    np.testing.assert_array_equal(np.asarray(retain_active), np.ones(len(steps), np.float32))


@pytest.mark.parametrize("name", sorted(set(METHODS) - {"scrub", "i2i_decouple"}))
def test_other_methods_keep_both_terms_on(name):
    forget_active, retain_active = METHODS[name].schedule(jnp.int32(123), 7,
                                                          METHODS[name].hyperparameters())
    assert float(forget_active) == 1.0 and float(retain_active) == 1.0


# --- runs on digits -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    fns, variables, train_set, test_set = trained_digits_mlp((64, 64), epochs=10)
    return fns, variables, make_splits(train_set, test_set, forget_fraction=0.1, seed=0)


def test_scrub_without_max_steps_equals_its_min_steps_alone(digits):
    """max_steps_epochs = 0: the forget term never acts, so SCRUB is its retain term alone (a
    method built here from that term only); with one max-step epoch it differs."""
    fns, variables, splits = digits
    scrub = METHODS["scrub"]
    min_steps_only = dataclasses.replace(scrub, forget_term=None)
    hyper = {"max_steps_epochs": 0}
    # plain SGD, as calibrated: under Adam XLA may fuse the two programs differently (1 ulp)
    sgd = lambda: optax.sgd(0.01, momentum=0.9)  # noqa: E731
    reference = unlearn(fns, variables, splits, min_steps_only, hyperparams=hyper, steps=6,
                        key=0, progress=False, tx=sgd())
    no_max = unlearn(fns, variables, splits, "scrub", hyperparams=hyper, steps=6, key=0,
                     progress=False, tx=sgd())
    with_max = unlearn(fns, variables, splits, "scrub", hyperparams={"max_steps_epochs": 1},
                       steps=6, key=0, progress=False, tx=sgd())
    # zero + 0·g_f + g_r is g_r exactly, so the two runs agree to the bit
    assert identical(no_max.variables, reference.variables)
    assert not identical(with_max.variables, reference.variables)


def test_l1_sparse_with_large_gamma_shrinks_the_l1_norm_compared_with_finetune(digits):
    """Same data, key and optimizer (2 epochs, lr 0.02, momentum 0.9): γ = 0.05 must end with
    ‖θ‖₁ at least 50 % below fine-tuning's (observed: 132 against 1043, the original 1043)."""
    fns, variables, splits = digits
    settings = {"epochs": 2, "learning_rate": 0.02, "batch_size": 64}
    finetuned = unlearn(fns, variables, splits, "finetune", hyperparams=settings, key=0,
                        progress=False)
    sparse = unlearn(fns, variables, splits, "l1_sparse", hyperparams={**settings, "gamma": 0.05},
                     key=0, progress=False)
    finetune_norm = _l1(finetuned.variables["params"])
    sparse_norm = _l1(sparse.variables["params"])
    assert sparse_norm < 0.5 * finetune_norm, (sparse_norm, finetune_norm)
    assert abs(finetune_norm / _l1(variables["params"]) - 1.0) < 0.05  # fine-tuning alone barely
    # changes the norm, so the shrinkage is the ℓ1 term's doing


# --- labels -------------------------------------------------------------------------------------


def test_random_label_fixed_labels_differ_from_the_true_ones(digits):
    fns, variables, splits = digits
    hyper = METHODS["random_label"].hyperparameters()
    true = np.asarray(splits.forget_set.labels)
    first = np.asarray(_prepare_fixed_labels(fns, variables, splits, hyper, 0).forget_labels)
    again = np.asarray(_prepare_fixed_labels(fns, variables, splits, hyper, 0).forget_labels)
    other = np.asarray(_prepare_fixed_labels(fns, variables, splits, hyper, 1).forget_labels)
    assert first.shape == true.shape
    assert np.all((first >= 0) & (first < NUM_CLASSES))
    assert np.all(first != true) and np.all(other != true)
    np.testing.assert_array_equal(first, again)  # fixed: a function of the key
    assert np.mean(first != other) > 0.7  # 8/9 expected for independent draws
    # the offsets y' − y (mod 10) are uniform on 1..9
    counts = np.bincount((first - true) % NUM_CLASSES, minlength=NUM_CLASSES)
    assert counts[0] == 0
    assert stats.chisquare(counts[1:]).pvalue > 1e-3


def test_random_label_run_trains_on_the_fixed_labels(digits):
    """The forget term sees exactly the prepared labels, looked up by the batch's indices."""
    fns, variables, splits = digits
    seen = []
    method = METHODS["random_label"]

    def recording(params, model_state, batch, context):
        jax.debug.callback(lambda *values: seen.append([np.asarray(v) for v in values]),
                           batch.labels, batch.indices, batch.weights)
        return method.forget_term(params, model_state, batch, context)

    hyper = method.hyperparameters()
    fixed = np.asarray(_prepare_fixed_labels(fns, variables, splits, hyper, 0).forget_labels)
    unlearn(fns, variables, splits, dataclasses.replace(method, forget_term=recording), steps=4,
            key=0, progress=False)
    true = np.asarray(splits.forget_set.labels)
    assert len(seen) == 4
    for labels, indices, weights in seen:
        real = weights > 0
        assert real.any()
        np.testing.assert_array_equal(labels[real], fixed[indices[real]])
        assert np.all(labels[real] != true[indices[real]])


def test_random_other_labels_distributions_monte_carlo():
    """200,000 draws for true label 4: with exclude_true every class but 4, uniformly; without,
    all ten classes uniformly, 4 included."""
    labels = jnp.full((200_000,), 4, jnp.int32)
    excluded = np.asarray(random_other_labels(jax.random.key(0), labels, NUM_CLASSES, True))
    counts = np.bincount(excluded, minlength=NUM_CLASSES)
    assert counts[4] == 0 and np.all(np.delete(counts, 4) > 0)
    assert stats.chisquare(np.delete(counts, 4)).pvalue > 1e-4
    redrawn = np.asarray(random_other_labels(jax.random.key(0), labels, NUM_CLASSES, False))
    counts = np.bincount(redrawn, minlength=NUM_CLASSES)
    assert np.all(counts > 0) and counts[4] > 0.09 * len(redrawn)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_srl_redraws_labels_from_all_classes_at_every_access():
    """The SRL forget term on a one-example batch whose model outputs the fixed logits 0..9:
    its loss logsumexp(0..9) − y′ reveals the drawn label y′. Over 4,000 keys (steps) every
    class is drawn, the true one included, about uniformly."""
    logits_row = jnp.arange(NUM_CLASSES, dtype=jnp.float32)

    def apply_fn(variables, inputs, train, rng=None):
        return jnp.broadcast_to(logits_row, (inputs.shape[0], NUM_CLASSES)), {}

    batch = Batch(jnp.zeros((1, 2, 2, 1)), jnp.array([4], jnp.int32), jnp.ones(1),
                  jnp.zeros(1, jnp.int32))
    term = METHODS["srl"].forget_term

    def drawn_label(key):
        context = TermContext(apply_fn, {}, METHODS["srl"].hyperparameters(), key,
                              jnp.int32(0), 1, NUM_CLASSES)
        loss, _ = term({}, {}, batch, context)
        return loss

    keys = jax.random.split(jax.random.key(7), 4000)
    losses = np.asarray(jax.jit(jax.vmap(drawn_label))(keys), np.float64)
    log_partition = np.log(np.exp(np.arange(NUM_CLASSES, dtype=np.float64)).sum())
    decoded = log_partition - losses
    labels = np.rint(decoded).astype(int)
    np.testing.assert_allclose(decoded, labels, atol=1e-4)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    assert np.all(counts > 0) and counts[4] > 0  # the true label is among the draws
    assert stats.chisquare(counts).pvalue > 1e-4
    assert np.mean(labels[1:] != labels[:-1]) > 0.8  # a fresh draw per key


def test_srl_term_key_changes_at_every_step(digits):
    """The step hands each term a key folded from the step counter, so SRL re-draws."""
    fns, variables, splits = digits
    method = METHODS["srl"]
    keys = []

    def recording(params, model_state, batch, context):
        jax.debug.callback(lambda value: keys.append(np.asarray(value)),
                           jax.random.key_data(context.key))
        return method.forget_term(params, model_state, batch, context)

    unlearn(fns, variables, splits, dataclasses.replace(method, forget_term=recording), steps=5,
            key=0, progress=False)
    assert len(keys) == 5
    assert len({key.tobytes() for key in keys}) == 5
