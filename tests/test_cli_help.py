"""The command line's help is plain text and complete: every option of every command is
explained, the registered methods and add-ons are listed, and `--version` prints the installed
package's version."""

import importlib.metadata
import re

import pytest

from jaxunlearn.cli import _build_parser, main

COMMANDS = ("quickstart", "train", "unlearn", "evaluate", "report")


def _help(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def _subparsers(parser):
    (action,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return action.choices


def test_every_option_of_every_command_has_help():
    parsers = _subparsers(_build_parser())
    assert set(parsers) == set(COMMANDS)
    for name, parser in parsers.items():
        assert parser.description, name
        for action in parser._actions:
            assert action.help and len(action.help) > 10, (name, action.option_strings)


@pytest.mark.parametrize("command", [(), *[(c,) for c in COMMANDS]])
def test_help_is_plain_text(capsys, command):
    text = _help(capsys, *command)
    for markup in ("``", ":func:", ":mod:", ":class:", "::\n"):
        assert markup not in text, (command, markup)
    assert not re.search(r"^\s*\.\. ", text, flags=re.M)  # no reST directives
    assert not re.search(r"\bin seconds\b", text)


def test_top_level_help_lists_the_commands(capsys):
    text = _help(capsys)
    for command in COMMANDS:
        assert f"  {command} " in text


def test_unlearn_help_lists_methods_addons_and_explains_steps(capsys):
    from jaxunlearn.methods import ADDONS, METHODS

    text = " ".join(_help(capsys, "unlearn").split())  # argparse wraps lines
    for name in [*METHODS, *ADDONS]:
        assert re.search(rf"\b{name}\b", text), name
    for option in ("--steps STEPS run exactly", "--epochs EPOCHS run this many epochs",
                   "--set PATH=VALUE only data.data_dir", "--restore-step STEP use the "):
        assert option in text, option


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"jaxunlearn {importlib.metadata.version('jaxunlearn')}"
