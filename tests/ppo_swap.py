"""purejaxrl's LogWrapper swap, trained: the same PPO ends with bit-identical parameters.

Shared by tests/with_gymnax (gymnax 1.0.1) and tests/with_gymnax_0_0 (gymnax 0.0.9). The demo's
PPO (``fnrec.demo.ppo``, one jitted program) trains on gymnax CartPole three ways: gymnax's
``LogWrapper`` under ``jax.vmap`` (purejaxrl), ``jax.vmap`` of ``GymnaxAdapter`` with capture
and ``step_api="done"`` (the one-line swap, purejaxrl's five values on either gymnax), and the
family's recorder with ``num_envs=N`` and capture (one shared queue). fnrec must not change
the trajectory: same keys, same floats, same parameters.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

import fnrec
from fnrec.demo.ppo import PPOConfig, make_train

CONFIG = PPOConfig(num_envs=8, num_steps=32, num_updates=6, update_epochs=2, num_minibatches=2)


class Out(NamedTuple):
    state: Any
    obs: Any
    reward: Any
    terminated: Any
    truncated: Any


def vmapped(env: Any, params: Any, num_envs: int) -> tuple[Any, Any]:
    """purejaxrl's loop: (reset, step) of `num_envs` copies under ``jax.vmap``, keys split; a
    6-value step (gymnax 1.x) merged into purejaxrl's done, as purejaxrl does."""
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def batch_reset(key):
        obs, state = reset(jax.random.split(key, num_envs), params)
        return state, obs

    def batch_step(state, action, key):
        obs, state, reward, *flags, _ = step(jax.random.split(key, num_envs), state, action, params)
        done = flags[0] | flags[1] if len(flags) == 2 else flags[0]
        return Out(state, obs, reward, done, done & False)

    return batch_reset, batch_step


def trained_parameters(gymnax: Any, log_wrapper: Any) -> dict[str, Any]:
    """Policy parameters after training, per way of recording."""
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=40)  # truncations happen too
    n = CONFIG.num_envs

    def recording():
        capture = fnrec.capture.episode_capture(40, max_episodes=4)
        return fnrec.Recording(capture=capture, log_wrapper_info=True)

    theirs = vmapped(log_wrapper(env), params, n)
    swap = fnrec.adapters.GymnaxAdapter(env, recording(), step_api="done")
    shared = fnrec.adapters.gymnax.recorder(env, recording(), n, params)
    ways = {
        "LogWrapper": theirs,
        "GymnaxAdapter swap": vmapped(swap, params, n),
        "recorder, num_envs=N": (shared.init, shared.step),
    }
    key = jax.random.key(0)
    results = {name: jax.jit(make_train(CONFIG, *fns, 4, 2))(key) for name, fns in ways.items()}
    assert int(results["recorder, num_envs=N"].env_state.capture.num_stored) > 0  # it recorded
    return {name: result.params for name, result in results.items()}


def assert_identical(parameters: dict[str, Any]) -> None:
    first, *others = parameters
    for name in others:
        for x, y in zip(
            jax.tree.leaves(parameters[first]), jax.tree.leaves(parameters[name]), strict=True
        ):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} vs {first}")
