"""The demo's pure parts: a flax-free functional CartPole and a small PPO learner (pure JAX).

Both run on a plain ``pip install fnrec``; ``fnrec.host.demo`` runs them, records and exports.
"""

from fnrec.demo.cartpole import CartPole, CartPoleParams

__all__ = ["CartPole", "CartPoleParams"]
