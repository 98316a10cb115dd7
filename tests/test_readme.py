"""The README's Python example runs as written and does what its comments say."""

import contextlib
import io
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_python_example_runs_and_forgets_the_class():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) == 2
    output = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(output):
        for block in blocks:  # later blocks continue the first one, as a reader would
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
