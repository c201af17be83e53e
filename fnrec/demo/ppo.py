"""A small PPO for discrete actions, in pure JAX (no flax, no optax): the demo's learner.

``make_train(config, env)`` returns ``train(key) -> TrainResult``, one jittable function: a
``lax.scan`` over updates, each a rollout of ``num_steps`` steps of ``num_envs`` envs then
``update_epochs`` epochs of clipped-surrogate minibatch updates with Adam. The env is any set of
pure functions ``reset(key) -> (state, obs)`` and ``step(state, action, key) -> StepResult``
(a ``fnrec.Recorder``'s ``init`` and ``step``): statistics and capture ride along in the env
state.

The same learner drives the demo (fnrec's CartPole) and ``benchmarks/training_overhead.py``
(gymnax CartPole, LogWrapper-style statistics against fnrec's, same seed, same results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax


class PPOConfig(NamedTuple):
    """PPO's settings (defaults: a CartPole that balances within a minute on two CPU cores)."""

    num_envs: int = 32
    num_steps: int = 64
    num_updates: int = 60
    update_epochs: int = 4
    num_minibatches: int = 4
    learning_rate: float = 2.5e-3
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64


class Transition(NamedTuple):
    obs: Array
    action: Array
    log_prob: Array
    value: Array
    reward: Array
    done: Array


class TrainResult(NamedTuple):
    """What ``train`` returns.

    Attributes:
      params: the policy and value networks' parameters.
      env_state: the envs' state after the last update (statistics and capture inside).
      metrics: per update, what ``metrics_fn(env_state)`` returned (stacked by the scan).
    """

    params: Any
    env_state: Any
    metrics: Any


def init_params(key: Array, obs_size: int, num_actions: int, hidden: int) -> dict:
    """Two tanh MLPs (actor and critic), scaled-normal weights, zero biases."""

    def dense(key: Array, n_in: int, n_out: int, scale: float) -> dict:
        return {
            "w": jax.random.normal(key, (n_in, n_out)) * scale / jnp.sqrt(n_in),
            "b": jnp.zeros(n_out),
        }

    keys = jax.random.split(key, 6)
    return {
        "actor": [
            dense(keys[0], obs_size, hidden, jnp.sqrt(2.0)),
            dense(keys[1], hidden, hidden, jnp.sqrt(2.0)),
            dense(keys[2], hidden, num_actions, 0.01),
        ],
        "critic": [
            dense(keys[3], obs_size, hidden, jnp.sqrt(2.0)),
            dense(keys[4], hidden, hidden, jnp.sqrt(2.0)),
            dense(keys[5], hidden, 1, 1.0),
        ],
    }


def _mlp(layers: list[dict], x: Array) -> Array:
    for layer in layers[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return x @ layers[-1]["w"] + layers[-1]["b"]


def policy(params: dict, obs: Array) -> tuple[Array, Array]:
    """Action logits and state values for a batch of observations."""
    obs = obs.reshape(obs.shape[0], -1).astype(jnp.float32)
    return _mlp(params["actor"], obs), _mlp(params["critic"], obs)[:, 0]


def greedy_action(params: dict, obs: Array) -> Array:
    """The most likely action (for evaluation)."""
    return jnp.argmax(policy(params, obs)[0], axis=-1).astype(jnp.int32)


class _Adam(NamedTuple):
    count: Array
    mu: Any
    nu: Any


def _adam_init(params: Any) -> _Adam:
    zeros = jax.tree.map(jnp.zeros_like, params)
    return _Adam(jnp.zeros((), jnp.int32), zeros, zeros)


def _adam_update(
    grads: Any, opt: _Adam, params: Any, lr: Array, max_norm: float
) -> tuple[Any, _Adam]:
    norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grads)))
    grads = jax.tree.map(lambda g: g * jnp.minimum(1.0, max_norm / (norm + 1e-6)), grads)
    count = opt.count + 1
    mu = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, opt.mu, grads)
    nu = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g**2, opt.nu, grads)
    mu_hat = jax.tree.map(lambda m: m / (1 - 0.9**count), mu)
    nu_hat = jax.tree.map(lambda v: v / (1 - 0.999**count), nu)
    params = jax.tree.map(lambda p, m, v: p - lr * m / (jnp.sqrt(v) + 1e-8), params, mu_hat, nu_hat)
    return params, _Adam(count, mu, nu)


def make_train(
    config: PPOConfig,
    reset: Callable[[Array], tuple[Any, Array]],
    step: Callable[[Any, Array, Array], Any],
    obs_size: int,
    num_actions: int,
    metrics_fn: Callable[[Any], Any] | None = None,
    on_update: Callable[[Array, Any], None] | None = None,
) -> Callable[[Array], TrainResult]:
    """PPO over a batch of envs, in one jittable function.

    Args:
      config: PPO's settings.
      reset: ``(key) -> (env_state, obs)`` for the whole batch (obs ``[num_envs, ...]``).
      step: ``(env_state, action, key) -> result`` with ``result.state``, ``.obs``, ``.reward``,
        ``.terminated``, ``.truncated`` (an fnrec ``StepResult``).
      obs_size: the flattened observation size.
      num_actions: the number of discrete actions.
      metrics_fn: ``(env_state) -> pytree`` logged after each update (e.g. the statistics'
        ``fnrec.stats.summary``); None logs nothing.
      on_update: a host function ``(update_index, metrics)`` called through
        ``jax.debug.callback`` after each update (a progress display), or None.

    Returns:
      ``train(key) -> TrainResult``.
    """
    batch = config.num_envs * config.num_steps
    if batch % config.num_minibatches:
        raise ValueError(
            f"num_envs * num_steps ({config.num_envs} * {config.num_steps} = {batch}) must be a "
            f"multiple of num_minibatches ({config.num_minibatches}): each update splits the "
            "rollout into equal minibatches"
        )
    minibatch = batch // config.num_minibatches

    def lr_at(count: Array) -> Array:
        if not config.anneal_lr:
            return jnp.asarray(config.learning_rate)
        steps_per_update = config.update_epochs * config.num_minibatches
        fraction = 1.0 - (count // steps_per_update) / config.num_updates
        return config.learning_rate * fraction

    def loss_fn(params: dict, data: Transition, advantages: Array, targets: Array) -> Array:
        logits, values = policy(params, data.obs)
        log_probs_all = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs_all, data.action[:, None], axis=1)[:, 0]
        value_clipped = data.value + jnp.clip(
            values - data.value, -config.clip_eps, config.clip_eps
        )
        value_loss = (
            0.5 * jnp.maximum((values - targets) ** 2, (value_clipped - targets) ** 2).mean()
        )
        ratio = jnp.exp(log_prob - data.log_prob)
        adv = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        surrogate = jnp.minimum(
            ratio * adv, jnp.clip(ratio, 1 - config.clip_eps, 1 + config.clip_eps) * adv
        )
        entropy = -(jnp.exp(log_probs_all) * log_probs_all).sum(-1).mean()
        return -surrogate.mean() + config.vf_coef * value_loss - config.ent_coef * entropy

    def gae(traj: Transition, last_value: Array) -> tuple[Array, Array]:
        def back(carry: tuple[Array, Array], t: Transition) -> tuple[tuple[Array, Array], Array]:
            advantage, next_value = carry
            not_done = 1.0 - t.done
            delta = t.reward + config.gamma * next_value * not_done - t.value
            advantage = delta + config.gamma * config.gae_lambda * not_done * advantage
            return (advantage, t.value), advantage

        _, advantages = lax.scan(back, (jnp.zeros_like(last_value), last_value), traj, reverse=True)
        return advantages, advantages + traj.value

    def update(carry: tuple, index: Array) -> tuple[tuple, Any]:
        params, opt, env_state, obs, key = carry

        def act(carry: tuple, _: None) -> tuple[tuple, Transition]:
            env_state, obs, key = carry
            key, act_key, step_key = jax.random.split(key, 3)
            logits, value = policy(params, obs)
            action = jax.random.categorical(act_key, logits).astype(jnp.int32)
            log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], 1)[:, 0]
            out = step(env_state, action, step_key)
            done = (out.terminated | out.truncated).astype(jnp.float32)
            reward = jnp.asarray(out.reward, jnp.float32)
            return (out.state, out.obs, key), Transition(obs, action, log_prob, value, reward, done)

        (env_state, obs, key), traj = lax.scan(act, (env_state, obs, key), None, config.num_steps)
        advantages, targets = gae(traj, policy(params, obs)[1])
        flat = jax.tree.map(lambda x: x.reshape(batch, *x.shape[2:]), (traj, advantages, targets))

        def epoch(carry: tuple, _: None) -> tuple[tuple, None]:
            params, opt, key = carry
            key, perm_key = jax.random.split(key)
            order = jax.random.permutation(perm_key, batch)
            shuffled = jax.tree.map(
                lambda x: x[order].reshape(config.num_minibatches, minibatch, *x.shape[1:]), flat
            )

            def minibatch_step(carry: tuple, mb: tuple) -> tuple[tuple, None]:
                params, opt = carry
                grads = jax.grad(loss_fn)(params, *mb)
                params, opt = _adam_update(
                    grads, opt, params, lr_at(opt.count), config.max_grad_norm
                )
                return (params, opt), None

            (params, opt), _ = lax.scan(minibatch_step, (params, opt), shuffled)
            return (params, opt, key), None

        (params, opt, key), _ = lax.scan(epoch, (params, opt, key), None, config.update_epochs)
        metrics = None if metrics_fn is None else metrics_fn(env_state)
        if on_update is not None:
            jax.debug.callback(on_update, index, metrics)
        return (params, opt, env_state, obs, key), metrics

    def train(key: Array) -> TrainResult:
        param_key, env_key, key = jax.random.split(key, 3)
        params = init_params(param_key, obs_size, num_actions, config.hidden)
        env_state, obs = reset(env_key)
        carry = (params, _adam_init(params), env_state, obs, key)
        (params, _, env_state, _, _), metrics = lax.scan(
            update, carry, jnp.arange(config.num_updates)
        )
        return TrainResult(params, env_state, metrics)

    return train
