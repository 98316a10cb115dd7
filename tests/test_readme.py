"""The README's Python example runs as written and does what its comments say."""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def test_readme_python_example_runs_and_forgets_the_class():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) == 3
    output = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(output):
        for block in blocks[:2]:  # later blocks continue the first one, as a reader would
            exec(compile(block, "README.md", "exec"), namespace)
    original_ua, unlearned_ua = map(float, output.getvalue().split())
    result = namespace["result"]
    assert result.log["method"] == "trw" and result.log["addons"] == ["('and_mask', {})"]
    assert original_ua < 5.0        # the original model classifies its training 3s
    assert unlearned_ua > 50.0      # after gradient ascent most 3s are misclassified
    many = namespace["many"]
    assert len(many) == 2 and many[0].log["vmapped"] is True
    hyper = namespace["hyper"]  # typed: the override and the method's other defaults
    assert (hyper.tilt, hyper.epochs, hyper.similarity) == (5.0, 3, "pca_cosine")


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    commands = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1).strip().splitlines()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()  # CI runs exactly the README's test command


def test_readme_surrogate_block_draws_fashion_mnist_at_the_digits_shape():
    """The Data section's block, after the first: Fashion-MNIST at the digits' 8×8 as the public
    set, the test set whole."""
    if not (FASHION / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("needs dataset-fashion-mnist")
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in (blocks[0], blocks[2]):
            exec(compile(block, "README.md", "exec"), namespace)
    splits = namespace["splits"]
    assert splits.public.name == "fashion_mnist@8x8x1" and len(splits.public) == 1000
    assert splits.public.input_shape == namespace["train_set"].input_shape
    assert len(splits.test) == len(namespace["test_set"])
