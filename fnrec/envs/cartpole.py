"""A functional CartPole without flax: step for step Gymnasium's phys2d ``CartPoleFunctional``.

Gymnasium's phys2d CartPole imports flax (for its params dataclass), which a plain
``pip install fnrec`` does not bring; the demo needs an env that does not. This one follows the
FuncEnv protocol with the same params and arithmetic (tests compare it with Gymnasium's, state
by state), and renders with ``fnrec.render.cartpole`` (pure JAX, no pygame).

Gymnasium's phys2d params set ``polemass_length = masspole + length`` (0.6) where classic
CartPole-v1 has the product (0.05); ``CartPoleParams`` keeps phys2d's value so that the two
agree, and ``CartPole(CLASSIC)`` (``fnrec.make("CartPole-v1")``) has the classic dynamics.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.experimental.functional import FuncEnv
from jax import Array

from fnrec.render.cartpole import cartpole as render_cartpole


class CartPoleParams(NamedTuple):
    """Gymnasium phys2d's CartPole parameters (same names and defaults)."""

    gravity: float = 9.8
    masscart: float = 1.0
    masspole: float = 0.1
    total_mass: float = 1.1
    length: float = 0.5
    polemass_length: float = 0.6
    force_mag: float = 10.0
    tau: float = 0.02
    theta_threshold_radians: float = 12 * 2 * np.pi / 360
    x_threshold: float = 2.4
    x_init: float = 0.05
    sutton_barto_reward: bool = False


CLASSIC = CartPoleParams(polemass_length=0.05)
"""Gymnasium's classic ``CartPole-v1`` dynamics (``polemass_length = masspole * length``)."""


_HIGH = np.array(
    [
        2 * CartPoleParams().x_threshold,
        np.inf,
        2 * CartPoleParams().theta_threshold_radians,
        np.inf,
    ],
    np.float32,
)


class CartPole(FuncEnv):
    """CartPole as a Gymnasium FuncEnv: state float32[4] = (x, x_dot, theta, theta_dot)."""

    # Gymnasium's CartPole-v1 bounds: twice the default thresholds (past them, an episode ends)
    observation_space = gym.spaces.Box(-_HIGH, _HIGH, dtype=np.float32)
    action_space = gym.spaces.Discrete(2)
    metadata: ClassVar[dict[str, Any]] = {"render_fps": 50}

    def __init__(self, params: CartPoleParams | None = None) -> None:
        self.default_params = CartPoleParams() if params is None else params

    def initial(self, rng: Array, params: CartPoleParams | None = None) -> Array:
        """A start state uniform in [-x_init, x_init]^4."""
        params = self.default_params if params is None else params
        return jax.random.uniform(
            rng, (4,), jnp.float32, minval=-params.x_init, maxval=params.x_init
        )

    def transition(
        self, state: Array, action: Any, rng: Any = None, params: CartPoleParams | None = None
    ) -> Array:
        """One Euler step of the cart-pole dynamics under a push left (0) or right (1)."""
        params = self.default_params if params is None else params
        x, x_dot, theta, theta_dot = state
        force = jnp.sign(action - 0.5) * params.force_mag
        costheta, sintheta = jnp.cos(theta), jnp.sin(theta)
        temp = (force + params.polemass_length * theta_dot**2 * sintheta) / params.total_mass
        thetaacc = (params.gravity * sintheta - costheta * temp) / (
            params.length * (4.0 / 3.0 - params.masspole * costheta**2 / params.total_mass)
        )
        xacc = temp - params.polemass_length * thetaacc * costheta / params.total_mass
        x = x + params.tau * x_dot
        x_dot = x_dot + params.tau * xacc
        theta = theta + params.tau * theta_dot
        theta_dot = theta_dot + params.tau * thetaacc
        return jnp.array((x, x_dot, theta, theta_dot), dtype=jnp.float32)

    def observation(self, state: Array, rng: Any = None, params: Any = None) -> Array:
        """The state itself."""
        return state

    def terminal(
        self, state: Array, rng: Any = None, params: CartPoleParams | None = None
    ) -> Array:
        """Whether the cart left the track or the pole fell past 12 degrees."""
        params = self.default_params if params is None else params
        return _fallen(state, params)

    def reward(
        self,
        state: Array,
        action: Any,
        next_state: Array,
        rng: Any = None,
        params: CartPoleParams | None = None,
    ) -> Array:
        """1 per step (phys2d's convention: read off `state`); Sutton-Barto: -1 on failure."""
        params = self.default_params if params is None else params
        if params.sutton_barto_reward:
            return jnp.where(_fallen(state, params), -1.0, 0.0)
        return jnp.asarray(1.0)

    def render_init(self, **kwargs: Any) -> None:
        """No render state: frames come from a pure function."""
        return None

    def render_image(
        self, state: Array, render_state: None, params: CartPoleParams | None = None
    ) -> tuple[None, np.ndarray]:
        """Gymnasium's CartPole picture of `state` (600x400), drawn by ``fnrec.render``."""
        params = self.default_params if params is None else params
        frame = _render(
            jnp.asarray(state), x_threshold=float(params.x_threshold), length=float(params.length)
        )
        return render_state, np.asarray(frame)

    def render_close(self, render_state: None) -> None:
        """Nothing to close."""


def _fallen(state: Array, params: CartPoleParams) -> Array:
    x, _, theta, _ = state
    return (
        (x < -params.x_threshold)
        | (x > params.x_threshold)
        | (theta < -params.theta_threshold_radians)
        | (theta > params.theta_threshold_radians)
    )


_render = jax.jit(render_cartpole, static_argnames=("x_threshold", "length", "snap"))
