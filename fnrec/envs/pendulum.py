"""A functional Pendulum without flax: Gymnasium's classic ``Pendulum-v1``, step for step.

The state keeps the last torque (``last_u``) so that ``fnrec.render.pendulum`` draws Gymnasium's
torque arrow from the state alone. The arithmetic is Gymnasium's, in float32 (Gymnasium's numpy
env computes in float64 and returns float32 observations).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.experimental.functional import FuncEnv
from jax import Array

from fnrec.render.pendulum import pendulum as render_pendulum


class PendulumParams(NamedTuple):
    """Gymnasium's Pendulum-v1 constants (same names and defaults)."""

    max_speed: float = 8.0
    max_torque: float = 2.0
    dt: float = 0.05
    g: float = 10.0
    m: float = 1.0
    l: float = 1.0  # noqa: E741 (Gymnasium's name)
    high_theta: float = float(np.pi)
    high_theta_dot: float = 1.0


class PendulumState(NamedTuple):
    """The pendulum's angle (0 is upright), angular velocity and last torque (0 at the start)."""

    theta: Array
    theta_dot: Array
    last_u: Array


class Pendulum(FuncEnv):
    """Pendulum as a Gymnasium FuncEnv: swing up and balance; never terminates (time limit 200)."""

    observation_space = gym.spaces.Box(
        np.array([-1.0, -1.0, -8.0], np.float32), np.array([1.0, 1.0, 8.0], np.float32)
    )
    action_space = gym.spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)
    metadata: ClassVar[dict[str, Any]] = {"render_fps": 30}

    def __init__(self, params: PendulumParams | None = None) -> None:
        self.default_params = PendulumParams() if params is None else params

    def initial(self, rng: Array, params: PendulumParams | None = None) -> PendulumState:
        """Angle uniform in [-pi, pi], velocity uniform in [-1, 1]."""
        params = self.default_params if params is None else params
        high = jnp.array([params.high_theta, params.high_theta_dot], jnp.float32)
        theta, theta_dot = jax.random.uniform(rng, (2,), jnp.float32, -high, high)
        return PendulumState(theta, theta_dot, jnp.float32(0.0))

    def transition(
        self,
        state: PendulumState,
        action: Any,
        rng: Any = None,
        params: PendulumParams | None = None,
    ) -> PendulumState:
        """One step under the torque `action` (clipped to [-max_torque, max_torque])."""
        params = self.default_params if params is None else params
        u = _torque(action, params)
        g, m, length, dt = params.g, params.m, params.l, params.dt
        theta_dot = (
            state.theta_dot
            + (3 * g / (2 * length) * jnp.sin(state.theta) + 3.0 / (m * length**2) * u) * dt
        )
        theta_dot = jnp.clip(theta_dot, -params.max_speed, params.max_speed)
        return PendulumState(state.theta + theta_dot * dt, theta_dot, u)

    def observation(self, state: PendulumState, rng: Any = None, params: Any = None) -> Array:
        """``(cos theta, sin theta, theta_dot)`` as float32."""
        return jnp.stack([jnp.cos(state.theta), jnp.sin(state.theta), state.theta_dot]).astype(
            jnp.float32
        )

    def terminal(self, state: PendulumState, rng: Any = None, params: Any = None) -> Array:
        """Never: episodes end at the time limit."""
        return jnp.asarray(False)

    def reward(
        self,
        state: PendulumState,
        action: Any,
        next_state: PendulumState,
        rng: Any = None,
        params: PendulumParams | None = None,
    ) -> Array:
        """``-(angle**2 + 0.1 * theta_dot**2 + 0.001 * torque**2)`` of the state before the step."""
        params = self.default_params if params is None else params
        u = _torque(action, params)
        angle = jnp.mod(state.theta + jnp.pi, 2 * jnp.pi) - jnp.pi
        return -(angle**2 + 0.1 * state.theta_dot**2 + 0.001 * u**2)

    def render_init(self, **kwargs: Any) -> None:
        """No render state: frames come from a pure function."""
        return None

    def render_image(
        self, state: PendulumState, render_state: None, params: Any = None
    ) -> tuple[None, np.ndarray]:
        """Gymnasium's Pendulum picture of `state` (500x500, torque arrow), by ``fnrec.render``."""
        return render_state, np.asarray(_render(jax.tree.map(jnp.asarray, state)))

    def render_close(self, render_state: None) -> None:
        """Nothing to close."""


def _torque(action: Any, params: PendulumParams) -> Array:
    u = jnp.reshape(jnp.asarray(action, jnp.float32), (-1,))[0]
    return jnp.clip(u, -params.max_torque, params.max_torque)


_render = jax.jit(render_pendulum, static_argnames=("snap",))
