"""Image-to-image unlearning (Varshney & Torra, arXiv 2502.04260; Li et al., ICLR 2024): an
autoencoder trained on digits (and Fashion-MNIST when installed), the model retrained without
the forget set, and the unlearning methods, compared on reconstruction errors, OOD and
membership scores, classifier-feature distances and the backdoor-regeneration audit.

    python experiments/i2i/run.py              # every setting, a few minutes on a CPU
    python experiments/i2i/run.py --small      # digits, class forgetting only, tiny (< 30 s)
    python experiments/i2i/run.py --settings fashion_class,fashion_inpaint_class --seeds 0,1,2

Settings: ``digits_class`` (forget digit 0), ``digits_backdoor`` (5% of the training images
poisoned with a cue and a target pattern, then forgotten), ``digits_inpaint_class`` (the masked
autoencoder, forget digit 0), ``fashion_class`` (5,000 training / 1,000 test Fashion-MNIST
images, forget class 7, "sneaker") and ``fashion_inpaint_class`` (the masked autoencoder, 4×4
patches, on the same images). Rows: ``original``, ``retrain`` (the reference),
``i2i_decouple`` (decoupling + retention, reconstructed; defaults), ``i2i_decouple:phase1`` (the
same run stopped after the decoupling phase), the ``i2i_noise_target`` baseline, and plain
gradient ascent / fine-tuning on the reconstruction loss.

Columns (errors are per-image pixel MSEs in the normalised space, averaged): ``forget_error``,
``retain_error``, ``test_error``; ``ood_auroc`` of forget vs test errors and ``ood_gap``, its
distance to the retrained model's; ``mia_tpr_at_1pct``, a threshold attack on −error at 1% FPR;
``forget_label_acc``, a SmallCNN's accuracy on the forget reconstructions; ``fd_forget`` /
``fd_retain``, the Fréchet distance between that classifier's penultimate features of the
reconstructions and of the inputs, ``cos_forget`` their mean paired cosine; ``to_retrain``, the
MSE between the model's and the retrained model's forget reconstructions; ``regeneration``, the
backdoor audit (0 = the cue paints nothing, 1 = it paints the target pattern). A method whose
parameters became non-finite gets a row of blanks.

Seeds (``--seeds``) change the autoencoders' initialisation and data order and the unlearning
runs' keys; the data subsets and the feature classifier stay fixed. ``ood_gap`` is measured
against the retrained model of the same seed.

Writes ``<out>/i2i_per_seed.{md,csv,json}`` (one row per setting, method and seed),
``<out>/i2i.{md,csv,json}`` (one row per setting and method: every metric's mean over seeds, and
``<metric>_std``, the sample standard deviation, with more than one seed; the Markdown shows
"mean ± std") and ``<out>/reconstructions_<setting>.png`` for the first seed (rows: input,
original, retrained and some unlearned models; columns: forget then retain samples).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import jax
import numpy as np

from jaxunlearn.certify.i2i import DecouplingGuarantee
from jaxunlearn.config import TrainConfig
from jaxunlearn.data import DEFAULT_FASHION_MNIST_DIR, load_digits, load_fashion_mnist, make_splits
from jaxunlearn.evaluate.generative import (
    Backdoor, backdoor_regeneration, evaluate_reconstruction, frechet_distance,
    mean_cosine_similarity, output_distance, penultimate_features, poison, reconstruct)
from jaxunlearn.losses import reconstruction_mse
from jaxunlearn.methods import unlearn
from jaxunlearn.methods.i2i import RECONSTRUCTION_ASCENT, RECONSTRUCTION_FINETUNE
from jaxunlearn.models import create_model_fns, from_linen, get_model
from jaxunlearn.report import environment_info, format_markdown_table, write_table
from jaxunlearn.train import train

# (row label, method); "i2i_decouple:phase1" stops after the decoupling phase (and its noise step)
METHODS = (("i2i_decouple", "i2i_decouple"), ("i2i_decouple:phase1", "i2i_decouple"),
           ("i2i_noise_target", "i2i_noise_target"),
           ("i2i_gradient_ascent", RECONSTRUCTION_ASCENT),
           ("i2i_finetune", RECONSTRUCTION_FINETUNE))
COLUMNS = ["setting", "method", "forget_error", "retain_error", "test_error", "ood_auroc",
           "ood_gap", "mia_tpr_at_1pct", "forget_label_acc", "fd_forget", "fd_retain",
           "cos_forget", "to_retrain", "regeneration", "seconds"]
FIGURE_ROWS = ("original", "retrain", "i2i_decouple", "i2i_noise_target", "i2i_finetune")


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    dataset: str
    model: str
    model_options: dict
    forget: str                      # "class" or "backdoor"
    train: TrainConfig
    subset: tuple[int, int] | None = None   # (train, test) sizes drawn from the dataset
    steps: dict = dataclasses.field(default_factory=dict)        # per method name; default:
    hyperparams: dict = dataclasses.field(default_factory=dict)  # the method's epochs


def _settings(small: bool) -> list[Setting]:
    adam = dict(optimizer="adam", weight_decay=0.0, schedule="cosine", augment=False)
    conv = {"channels": (16, 32), "latent_size": 32}
    # plain GA gets the decoupling phase's budget (50 steps), unclipped and unstopped, at the
    # largest learning rate of {1e-3, 2e-3, 5e-3} that stays finite on digits
    ascent = {"i2i_gradient_ascent": {"learning_rate": 2e-3}}
    if small:
        return [Setting("digits_class", "digits", "conv_autoencoder",
                        {"channels": (8,), "latent_size": 16}, "class",
                        TrainConfig(epochs=12, batch_size=64, learning_rate=3e-3, **adam),
                        steps={"i2i_decouple": 60, "i2i_decouple:phase1": 21,
                               "i2i_noise_target": 60, "i2i_finetune": 60,
                               "i2i_gradient_ascent": 20},
                        hyperparams={"i2i_decouple": {"decouple_steps": 20},
                                     "i2i_decouple:phase1": {"decouple_steps": 20}, **ascent})]
    digits_steps = {"i2i_gradient_ascent": 50, "i2i_decouple:phase1": 51}
    settings = [
        Setting("digits_class", "digits", "conv_autoencoder", conv, "class",
                TrainConfig(epochs=30, batch_size=64, learning_rate=3e-3, **adam),
                steps=digits_steps, hyperparams=ascent),
        Setting("digits_backdoor", "digits", "conv_autoencoder", conv, "backdoor",
                TrainConfig(epochs=30, batch_size=64, learning_rate=3e-3, **adam),
                steps=digits_steps, hyperparams=ascent),
        Setting("digits_inpaint_class", "digits", "masked_autoencoder",
                {"patch_size": 2, "embed_dim": 32, "depth": 2, "mask_ratio": 0.25}, "class",
                TrainConfig(epochs=30, batch_size=64, learning_rate=2e-3, **adam),
                steps=digits_steps, hyperparams=ascent),
    ]
    if os.path.isdir(DEFAULT_FASHION_MNIST_DIR):
        settings.append(Setting(
            "fashion_class", "fashion_mnist", "conv_autoencoder", conv, "class",
            TrainConfig(epochs=6, batch_size=128, learning_rate=2e-3, **adam),
            subset=(5000, 1000), hyperparams=ascent,
            steps={"i2i_decouple": 250, "i2i_decouple:phase1": 51, "i2i_noise_target": 250,
                   "i2i_finetune": 200, "i2i_gradient_ascent": 50}))
        settings.append(Setting(
            "fashion_inpaint_class", "fashion_mnist", "masked_autoencoder",
            {"patch_size": 4, "embed_dim": 32, "depth": 2, "mask_ratio": 0.25}, "class",
            TrainConfig(epochs=6, batch_size=128, learning_rate=2e-3, **adam),
            subset=(5000, 1000), hyperparams=ascent,
            steps={"i2i_decouple": 250, "i2i_decouple:phase1": 51, "i2i_noise_target": 250,
                   "i2i_finetune": 200, "i2i_gradient_ascent": 50}))
    return settings


def _data(setting: Setting):
    """Splits (and the backdoor, if any) of ``setting``."""
    if setting.dataset == "digits":
        train_set, test_set = load_digits()
        forget_class = 0
    else:
        train_set, test_set = load_fashion_mnist()
        forget_class = 7
    if setting.subset:
        rng = np.random.default_rng(0)
        train_set = train_set.subset(np.sort(rng.choice(len(train_set), setting.subset[0], False)))
        test_set = test_set.subset(np.sort(rng.choice(len(test_set), setting.subset[1], False)))
    if setting.forget == "class":
        return make_splits(train_set, test_set, forget_classes=[forget_class]), None
    size = 2 if train_set.input_shape[0] <= 8 else 4
    backdoor = Backdoor(low=float(train_set.inputs.min()), high=float(train_set.inputs.max()),
                        size=size)
    poisoned = np.sort(np.random.default_rng(0).choice(len(train_set), len(train_set) // 20, False))
    inputs = np.array(train_set.inputs)
    inputs[poisoned] = poison(inputs[poisoned], backdoor)
    train_set = dataclasses.replace(train_set, inputs=inputs)
    return make_splits(train_set, test_set, forget_indices=poisoned), backdoor


def _train_autoencoder(fns, dataset, config):
    variables = jax.jit(fns.init)(jax.random.key(config.seed), np.asarray(dataset.inputs[:1]))
    return train(fns.apply, variables, dataset, config, loss_fn=reconstruction_mse,
                 targets="inputs", progress=False).variables


def _feature_classifier(splits, small: bool):
    """A SmallCNN (an MLP with --small) trained on the clean training images: the embedding for
    feature distances."""
    module = (get_model("mlp", splits.train.num_classes, hidden_sizes=(64,)) if small else
              get_model("small_cnn", splits.train.num_classes, channels=(16, 32), dense_size=64))
    fns = from_linen(module)
    config = TrainConfig(epochs=4 if small else 8, batch_size=128, learning_rate=0.05,
                         augment=False)
    variables = jax.jit(fns.init)(jax.random.key(1), np.asarray(splits.train.inputs[:1]))
    clean = splits.retain_set if splits.spec.get("kind") == "indices" else splits.train
    return module, train(fns.apply, variables, clean, config, progress=False).variables


def _row(setting, name, fns, variables, splits, classifier, retrain_forget_outputs, backdoor,
         seconds):
    module, classifier_variables = classifier
    forget, retain = splits.forget_set, splits.retain_set
    retain_sample = retain.inputs[:1000]
    if not all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(variables)):
        # unbounded gradient ascent can leave the parameters non-finite: a row of blanks
        row = {column: None for column in COLUMNS}
        row.update(setting=setting.name, method=name, seconds=seconds, diverged=True)
        return (row, np.full(forget.inputs.shape, np.nan, np.float32),
                np.full(retain_sample.shape, np.nan, np.float32))
    metrics = evaluate_reconstruction(fns.apply, variables, splits)
    forget_outputs = reconstruct(fns.apply, variables, forget.inputs)
    retain_outputs = reconstruct(fns.apply, variables, retain_sample)
    embed = lambda images: penultimate_features(module, classifier_variables, images)  # noqa: E731
    forget_features, forget_output_features = embed(forget.inputs), embed(forget_outputs)
    logits = from_linen(module).apply(classifier_variables, forget_outputs, False)[0]
    row = {
        "setting": setting.name, "method": name, **metrics,
        "forget_label_acc": float(np.mean(np.argmax(np.asarray(logits), -1) == forget.labels)),
        "fd_forget": frechet_distance(forget_output_features, forget_features),
        "fd_retain": frechet_distance(embed(retain_outputs), embed(retain_sample)),
        "cos_forget": mean_cosine_similarity(forget_output_features, forget_features),
        "to_retrain": (output_distance(forget_outputs, retrain_forget_outputs)
                       if retrain_forget_outputs is not None else 0.0),
        "regeneration": (backdoor_regeneration(fns.apply, variables, splits.test.inputs,
                                               backdoor)["regeneration"]
                         if backdoor is not None else None),
        "seconds": seconds,
    }
    return row, forget_outputs, retain_outputs


def _figure(path, title, inputs, outputs_by_model, columns_forget):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("input", inputs)] + [(name, outputs_by_model[name]) for name in FIGURE_ROWS
                                   if name in outputs_by_model]
    count = inputs.shape[0]
    low, high = float(inputs.min()), float(inputs.max())
    figure, axes = plt.subplots(len(rows), count, figsize=(0.9 * count + 1.2, 0.95 * len(rows)),
                                squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(count):
            axis = axes[r][c]
            axis.imshow(images[c, ..., 0], cmap="gray", vmin=low, vmax=high)
            axis.set_xticks([]), axis.set_yticks([])
            if c == 0:
                axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
            if r == 0:
                axis.set_title("forget" if c < columns_forget else "retain", fontsize=8)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_setting(setting: Setting, small: bool, out: str, seed: int = 0, classifier=None,
                figure: bool = True) -> list[dict]:
    """Rows of ``setting`` for one seed (each with ``seed``); the figure when ``figure``.
    ``classifier`` (the feature classifier) is trained here unless given."""
    splits, backdoor = _data(setting)
    fns = create_model_fns(setting.model, splits.train.num_classes, **setting.model_options)
    config = dataclasses.replace(setting.train, seed=seed)
    started = time.perf_counter()
    original = _train_autoencoder(fns, splits.train, config)
    original_seconds = time.perf_counter() - started
    started = time.perf_counter()
    retrained = _train_autoencoder(fns, splits.retain_set, config)
    retrain_seconds = time.perf_counter() - started
    if classifier is None:
        classifier = _feature_classifier(splits, small)
    retrain_forget = reconstruct(fns.apply, retrained, splits.forget_set.inputs)

    models = {"original": (original, original_seconds), "retrain": (retrained, retrain_seconds)}
    logs = {}
    for name, method in METHODS:
        started = time.perf_counter()
        result = unlearn(fns, original, splits, method, steps=setting.steps.get(name), key=seed,
                         hyperparams=setting.hyperparams.get(name), progress=False)
        models[name] = (result.variables, time.perf_counter() - started)
        logs[name] = {k: v for k, v in result.log.items() if k != "history"}

    rows, shown = [], 6
    forget_outputs, retain_outputs = {}, {}
    for name, (variables, seconds) in models.items():
        row, forget_out, retain_out = _row(setting, name, fns, variables, splits, classifier,
                                           retrain_forget, backdoor, seconds)
        row["seed"] = seed
        rows.append(row)
        forget_outputs[name], retain_outputs[name] = forget_out[:shown], retain_out[:shown]
        if not row.get("diverged"):
            print(f"  {setting.name:>20} {name:>20} seed {seed}  forget {row['forget_error']:.4f}  "
                  f"retain {row['retain_error']:.4f}  ood {row['ood_auroc']:.3f}", flush=True)
    if figure:
        inputs = np.concatenate([splits.forget_set.inputs[:shown],
                                 splits.retain_set.inputs[:shown]])
        outputs = {name: np.concatenate([forget_outputs[name], retain_outputs[name]])
                   for name in models}
        _figure(os.path.join(out, f"reconstructions_{setting.name}.png"),
                f"{setting.name}: {setting.model} reconstructions (seed {seed})", inputs,
                outputs, shown)
    reference = next(row["ood_auroc"] for row in rows if row["method"] == "retrain")
    for row in rows:
        if row["ood_auroc"] is not None:
            row["ood_gap"] = abs(row["ood_auroc"] - reference)
        row["log"] = logs.get(row["method"])
    return rows


def aggregate(rows: list[dict]) -> list[dict]:
    """One row per (setting, method), in first-seen order: each numeric column's mean over the
    seeds where it is defined (a diverged seed has none) and, with more than one, ``<column>_std``
    (sample standard deviation); ``seeds`` counts the rows, ``diverged`` the diverged ones."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["setting"], row["method"]), []).append(row)
    out = []
    for (setting, method), group in groups.items():
        merged = {"setting": setting, "method": method, "seeds": len(group),
                  "diverged": sum(bool(row.get("diverged")) for row in group)}
        for column in COLUMNS[2:]:
            values = [float(row[column]) for row in group
                      if isinstance(row.get(column), (int, float))]
            merged[column] = float(np.mean(values)) if values else None
            if len(values) > 1:
                merged[f"{column}_std"] = float(np.std(values, ddof=1))
        out.append(merged)
    return out


def _display(row: dict, digits: int = 4) -> dict:
    """``row`` with "mean ± std" strings where a standard deviation exists."""
    shown = dict(row)
    for column in COLUMNS[2:]:
        if row.get(column) is not None and f"{column}_std" in row:
            shown[column] = f"{row[column]:.{digits}f} ± {row[column + '_std']:.{digits}f}"
    return shown


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"--seeds: expected distinct non-negative integers, got {text!r}")
    return seeds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="digits class forgetting, tiny")
    parser.add_argument("--out", default="results/i2i")
    parser.add_argument("--settings", default=None,
                        help="comma-separated setting names (default: all; e.g. fashion_class,"
                             "fashion_inpaint_class)")
    parser.add_argument("--seeds", default="0",
                        help="comma-separated seeds (default 0); the tables give mean ± std")
    args = parser.parse_args(argv)
    available = [setting.name for setting in _settings(args.small)]
    chosen = args.settings.split(",") if args.settings else available
    if not chosen or any(name not in available for name in chosen):
        parser.error(f"--settings: {chosen} must be among {available}")
    try:
        seeds = _seeds(args.seeds)
    except ValueError as error:
        parser.error(str(error))
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    per_seed = []
    for setting in _settings(args.small):
        if setting.name not in chosen:
            continue
        classifier = None
        for index, seed in enumerate(seeds):
            if classifier is None:
                classifier = _feature_classifier(_data(setting)[0], args.small)
            per_seed.extend(run_setting(setting, args.small, args.out, seed, classifier,
                                        figure=index == 0))
    rows = aggregate(per_seed)
    # what a certificate would need for the first setting: the noise for ε = 0.5 if its training
    # objective were 0.01-strongly convex (it is not), with i2i_decouple's default ascent
    splits, _ = _data(_settings(args.small)[0])
    example = DecouplingGuarantee(
        lipschitz=1.0, strong_convexity=0.01, num_train=len(splits.train),
        num_forget=len(splits.forget_indices), ascent_learning_rate=0.05, ascent_steps=50,
        epsilon=0.5, delta=1e-5).as_dict()
    metadata = {
        "experiment": "i2i", "arguments": vars(args), "seeds": seeds,
        "settings": [dataclasses.asdict(s) for s in _settings(args.small)],
        "certificate_example": example, "seconds": time.perf_counter() - started,
        "environment": environment_info()}
    write_table(per_seed, ["seed"] + COLUMNS, args.out, "i2i_per_seed", digits=4,
                metadata=metadata)
    paths = write_table(rows, ["seeds"] + COLUMNS, args.out, "i2i", digits=4, metadata=metadata)
    with open(paths["md"], "w") as handle:   # the Markdown table shows mean ± std
        handle.write(format_markdown_table([_display(row) for row in rows], COLUMNS + ["seeds"],
                                           digits=4) + "\n")
    with open(paths["md"]) as handle:
        print(handle.read())
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['json']} and the figures in {args.out} "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
