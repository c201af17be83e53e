"""fnrec's own functional envs: Gymnasium's CartPole and Pendulum without flax (pure JAX).

Gymnasium's functional JAX envs import flax, which a plain ``pip install fnrec`` does not bring.
These follow the FuncEnv protocol, render with ``fnrec.render`` (no pygame) and are what
``fnrec.make("CartPole-v1")`` and ``fnrec.make("Pendulum-v1")`` run.
"""

from fnrec.envs.cartpole import CLASSIC, CartPole, CartPoleParams
from fnrec.envs.pendulum import Pendulum, PendulumParams, PendulumState

__all__ = [
    "CLASSIC",
    "CartPole",
    "CartPoleParams",
    "Pendulum",
    "PendulumParams",
    "PendulumState",
]
