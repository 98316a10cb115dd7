"""The README's Python example runs as written and does what its comments say."""

import contextlib
import io
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_python_example_runs_and_forgets_the_class():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) == 1
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(blocks[0], "README.md", "exec"), {})
    original_ua, unlearned_ua = map(float, output.getvalue().split())
    assert original_ua < 5.0        # the original model classifies its training 3s
    assert unlearned_ua > 50.0      # after gradient ascent most 3s are misclassified


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    commands = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1).strip().splitlines()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()  # CI runs exactly the README's test command
