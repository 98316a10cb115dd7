"""jaxunlearn: machine unlearning in JAX.

Sub-packages: ``data`` (datasets and forget/retain/public splits), ``models`` (Flax modules and
pure-function adapters), ``train`` (jitted sharded steps, loop, Orbax checkpoints), ``losses``,
``methods`` (unlearning methods), ``evaluate`` and ``report``. ``jaxunlearn quickstart`` runs the
whole story on digits.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``jaxunlearn.unlearn`` without importing JAX and every method on ``import jaxunlearn``
    if name == "unlearn":
        from jaxunlearn.methods import unlearn

        return unlearn
    raise AttributeError(f"module 'jaxunlearn' has no attribute {name!r}")
