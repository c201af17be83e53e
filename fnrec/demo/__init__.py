"""The demo's pure part: a small PPO learner (pure JAX), run on a plain ``pip install fnrec``.

``fnrec.host.demo`` runs it on ``fnrec.envs.CartPole``, records and exports.
"""
