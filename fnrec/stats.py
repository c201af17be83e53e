"""Episode statistics as an immutable pytree, updated by pure functions.

Traced side: ``init``, ``step`` and ``reset`` are pure and run under ``jax.jit``, ``jax.vmap``,
``lax.scan`` and ``jax.grad``. Host side: ``queues``, ``episode_count`` and ``host_info`` turn a
recorded state into numpy arrays and Python ints.

``num_envs=None`` records one environment (scalar running fields); ``num_envs=N`` records a batch
of N environments with running fields of shape [N] and one shared queue, filled in env-index order
(as Gymnasium's vector ``RecordEpisodeStatistics`` does). ``jax.vmap`` over an unbatched state gives
one queue per environment instead. ``shards=S`` keeps the shared queue in one ring per shard of
the batch (no collective when the batch is sharded over S devices); ``merged`` reads them as one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.typing import ArrayLike

from fnrec import _checks, _flags, counter
from fnrec._checks import (
    check_buffer_length,
    check_instance,
    check_num_envs,
    flag_array,
    reward_array,
)
from fnrec._explicit import auto_within
from fnrec._processes import gathered

AutoresetMode = Literal["same_step", "next_step", "disabled"]
_MAX_LENGTH = np.iinfo(np.int32).max
_COMPARE_ALL_LIMIT = 1 << 16  # buffer slots x words of done flags searched by one fused compare


class EpisodeStats(NamedTuple):
    """Running and finished-episode statistics of one environment or a batch.

    Attributes:
      running_return: f32[*E], return of the current (unfinished) episodes so far (compensated
        sum); a finished episode's return is ``EpisodeEnded.episode_return``.
      running_compensation: f32[*E], the running sum's rounding error (Kahan summation).
      running_length: int32[*E], steps in the current episodes (saturates at 2**31 - 1).
      prev_done: bool[*E], whether the previous step ended the episode (next-step autoreset).
      return_queue: f32[B], returns of the last B finished episodes (a ring buffer).
      length_queue: int32[B], their lengths.
      terminated_queue: bool[B], whether each ended by termination (else by truncation).
      end_queue: uint32[B], when each entry ended: the low word of ``env_steps`` after the step
        that ended it. ``summary(stats, last=N)`` orders per-env queues by it (see there).
      queue_head: int32[], the ring slot the next finished episode is written to.
      episode_count: Counter64, finished episodes so far (exact, never wraps).
      env_steps: Counter64, environment steps recorded so far (exact, never wraps).
      metric_running: ``{name: tuple of f32[*E] or bool[*E]}``, each metric's running reduction
        of the current episodes (see ``Metric``); empty without metrics.
      metric_queue: ``{name: f32[B]}``, each metric's value for the queued episodes.

    ``E`` is ``()`` for one environment and ``(N,)`` for a batch; B is ``buffer_length``. With
    ``shards=S`` (``init``), the queue's leaves get a leading shard axis ([S, B], and [S] for
    ``queue_head`` and ``episode_count``): shard s keeps the episodes of envs ``s * N/S`` to
    ``(s + 1) * N/S - 1`` in its own ring, and the readers (``merged``) give one queue.
    """

    running_return: Array
    running_compensation: Array
    running_length: Array
    prev_done: Array
    return_queue: Array
    length_queue: Array
    terminated_queue: Array
    end_queue: Array
    queue_head: Array
    episode_count: counter.Counter64
    env_steps: counter.Counter64
    # Never mutated: defaults for states built before metrics existed (positional fields).
    metric_running: dict[str, tuple[Array, ...]] = {}  # noqa: RUF012
    metric_queue: dict[str, Array] = {}  # noqa: RUF012


class _EndedFields(NamedTuple):
    mask: Array
    episode_return: Array
    length: Array
    terminated: Array
    truncated: Array


@jax.tree_util.register_pytree_with_keys_class
class EpisodeEnded(_EndedFields):
    """The episodes that finished on one step; every field is zero/False where none finished.

    Attributes:
      mask: bool[*E], which environments finished an episode on this step.
      episode_return: f32[*E], the finished episodes' returns.
      length: int32[*E], their lengths.
      terminated: bool[*E], ended by termination.
      truncated: bool[*E], ended by truncation.
      metrics: ``{name: f32[*E]}``, the finished episodes' metrics (see ``Metric``); ``{}``
        without metrics. A keyword (``EpisodeEnded(mask, ..., truncated, metrics=...)``) and
        a pytree child, but not a tuple item: ``tuple(ended)`` is the five fields above.
    """

    def __new__(
        cls,
        mask: Array,
        episode_return: Array,
        length: Array,
        terminated: Array,
        truncated: Array,
        metrics: dict[str, Array] | None = None,
    ) -> EpisodeEnded:
        self = super().__new__(cls, mask, episode_return, length, terminated, truncated)
        self._metrics = {} if metrics is None else dict(metrics)
        return self

    @property
    def metrics(self) -> dict[str, Array]:
        """The finished episodes' metrics, ``{name: f32[*E]}`` (zero where none finished)."""
        return self.__dict__.get("_metrics", {})

    def _replace(self, **changes: Any) -> EpisodeEnded:
        metrics = changes.pop("metrics", self.metrics)
        return EpisodeEnded(*super()._replace(**changes), metrics=metrics)

    def tree_flatten_with_keys(self) -> tuple[tuple[tuple[Any, Any], ...], None]:
        keys = (*self._fields, "metrics")
        values = (*self, self.metrics)
        return tuple(
            (jax.tree_util.GetAttrKey(k), v) for k, v in zip(keys, values, strict=True)
        ), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: Any) -> EpisodeEnded:
        *fields, metrics = children
        return cls(*fields, metrics=metrics)

    def to_info(self) -> dict[str, Any]:
        """Gymnasium's vector info layout, pure: ``{"episode": {"r", "l", *metrics},
        "_episode": mask}``.

        Returns:
          A dict of arrays usable inside jit; host adapters add the wall-clock ``"t"``.
        """
        return {
            "episode": {"r": self.episode_return, "l": self.length, **self.metrics},
            "_episode": self.mask,
        }


Reducer = Literal["sum", "mean", "last", "max", "min", "any", "first"]
REDUCERS: tuple[Reducer, ...] = ("sum", "mean", "last", "max", "min", "any", "first")
# Names a metric cannot take: Gymnasium's info keys, the summary's and the episode log's columns.
_RESERVED = ("r", "l", "t", "episode", "env", "return", "length", "terminated", "truncated",
             "count")  # fmt: skip


class Transition(NamedTuple):
    """What a metric's ``value`` sees of one step (shapes of one env, or a batch's [N, ...]).

    Attributes:
      reward: f32[*E], the step's reward.
      terminated: bool[*E], the step ended the episode by termination.
      truncated: bool[*E], the step ended it by truncation (time limit included).
      info: the env's info dict of the step (``{}`` when none was given).
      env_state: the env state after the step, before any autoreset (None when not given).
      obs: the step's observation, before any autoreset (None when not given).
    """

    reward: Array
    terminated: Array
    truncated: Array
    info: Any = None
    env_state: Any = None
    obs: Any = None


class Metric(NamedTuple):
    """A per-episode metric: a per-step value and how an episode's values are reduced.

    Attributes:
      name: the key in ``info["episode"]``, ``EpisodeEnded.metrics``, the queues, ``summary``
        (``"{name}_mean"``...), the history and the episode log's CSV column.
      value: a jittable ``(Transition) -> array`` of one value per env (a number, or a flag
        for ``"any"`` and ``"first"``).
      reduce: ``"sum"`` (Kahan-compensated, as returns), ``"mean"`` (the sum over the
        episode's length), ``"last"``, ``"max"``, ``"min"``, ``"any"`` (1.0 if the flag held
        on some step, else 0.0) or ``"first"`` (the episode step, 1 for the first, on which
        the flag first held; NaN if it never did).
      discount: None, or a sum's discount: step t of the episode (from 0) adds
        ``discount**t * value``.

    Only the steps the statistics count are reduced (not next-step autoreset's reset steps).
    """

    name: str
    value: Callable[[Transition], ArrayLike]
    reduce: Reducer = "sum"
    discount: float | None = None


def metric(
    name: str,
    value: Callable[[Transition], ArrayLike],
    reduce: Reducer = "sum",
    discount: float | None = None,
) -> Metric:
    """A per-episode metric, checked; give it to ``episode_statistics(..., metrics=...)``.

    Args:
      name: its key (an identifier, not one of the statistics' own names such as ``"return"``).
      value: a jittable function of the step's ``Transition``, one value per env.
      reduce: one of ``"sum"``, ``"mean"``, ``"last"``, ``"max"``, ``"min"``, ``"any"``,
        ``"first"`` (see ``Metric``).
      discount: for ``"sum"`` only: a factor in [0, 1] (a discounted sum), or None.

    Returns:
      A ``Metric``.

    Example (steps on which the reward was positive, and the largest reward)::

        >>> import fnrec
        >>> statistics = fnrec.stats.episode_statistics(10, metrics=[
        ...     fnrec.stats.metric("good", lambda t: t.reward > 0),
        ...     fnrec.stats.metric("peak", lambda t: t.reward, "max")])
        >>> stats = statistics.init()
        >>> for reward in (1.0, -2.0, 5.0):
        ...     stats, ended = statistics.step(stats, reward, reward > 4, False)
        >>> float(ended.metrics["good"]), float(ended.metrics["peak"])
        (2.0, 5.0)
    """
    if not isinstance(name, str) or not name.isidentifier() or name in _RESERVED:
        raise ValueError(f"`name` must be an identifier other than {_RESERVED}, got {name!r}")
    if not callable(value):
        raise TypeError(f"`value` must be a callable of a Transition, got {type(value).__name__}")
    if reduce not in REDUCERS:
        raise ValueError(f"`reduce` must be one of {REDUCERS}, got {reduce!r}")
    if discount is not None:
        if reduce != "sum":
            raise ValueError(f"`discount` applies to reduce='sum' only, got reduce={reduce!r}")
        if (
            isinstance(discount, bool)
            or not isinstance(discount, (int, float, np.floating))
            or (not 0.0 <= float(discount) <= 1.0)
        ):
            raise ValueError(f"`discount` must be None or a number in [0, 1], got {discount!r}")
        discount = float(discount)
    return Metric(name, value, reduce, discount)


def discounted_return(gamma: float, name: str = "discounted_return") -> Metric:
    """The episode's discounted return ``sum_t gamma**t * reward_t``, compensated as returns.

    Args:
      gamma: the discount, in [0, 1] (bound once).
      name: the metric's key.

    Returns:
      A ``Metric``.

    Example::

        >>> import fnrec
        >>> statistics = fnrec.stats.episode_statistics(metrics=[
        ...     fnrec.stats.discounted_return(0.5)])
        >>> stats = statistics.init()
        >>> stats, _ = statistics.step(stats, 4.0, False, False)
        >>> stats, ended = statistics.step(stats, 4.0, True, False)
        >>> float(ended.metrics["discounted_return"])
        6.0
    """
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating)):
        raise ValueError(f"`gamma` must be a number in [0, 1], got {gamma!r}")
    if not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"`gamma` must be a number in [0, 1], got {gamma!r}")
    return metric(name, _reward, "sum", float(gamma))


def success(
    flag: str | Callable[[Transition], ArrayLike],
    how: Literal["any", "last"] = "any",
    name: str = "success",
) -> Metric:
    """Whether an episode succeeded: 1.0 or 0.0 from a per-step flag.

    Args:
      flag: the key of the flag in the env's ``info`` (e.g. ``"success"``, ``"is_success"``),
        or a jittable function of the ``Transition``.
      how: ``"any"``: the flag held on some step (Metaworld); ``"last"``: on the last step
        (mjlab).
      name: the metric's key.

    Returns:
      A ``Metric``.

    Example::

        >>> import fnrec
        >>> statistics = fnrec.stats.episode_statistics(metrics=[fnrec.stats.success("hit")])
        >>> stats = statistics.init()
        >>> stats, _ = statistics.step(stats, 0.0, False, False, info={"hit": True})
        >>> stats, ended = statistics.step(stats, 0.0, True, False, info={"hit": False})
        >>> float(ended.metrics["success"])
        1.0
    """
    if how not in ("any", "last"):
        raise ValueError(f"`how` must be 'any' or 'last', got {how!r}")
    if isinstance(flag, str):
        value = _info_entry(flag)
    elif callable(flag):
        value = flag
    else:
        raise TypeError(
            f"`flag` must be an info key (str) or a callable of a Transition, got "
            f"{type(flag).__name__}"
        )
    return metric(name, lambda t: jnp.asarray(value(t)) != 0, how)


def _reward(transition: Transition) -> Array:
    return transition.reward


def _info_entry(key: str) -> Callable[[Transition], Any]:
    def value(transition: Transition) -> Any:
        info = transition.info if transition.info is not None else {}
        if key not in info:
            raise KeyError(
                f"the metric reads info[{key!r}], but the step's info has keys "
                f"{sorted(info)}: name a key the env puts in its info"
            )
        return info[key]

    return value


def _check_metrics(metrics: Any) -> tuple[Metric, ...]:
    if metrics is None:
        return ()
    if isinstance(metrics, Metric):
        metrics = (metrics,)
    try:
        metrics = tuple(metrics)
    except TypeError:
        metrics = None
    if metrics is None or not all(isinstance(m, Metric) for m in metrics):
        raise TypeError(
            "`metrics` must be a sequence of fnrec.stats.Metric (fnrec.stats.metric, "
            f"discounted_return, success), got {metrics!r}"
        )
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"`metrics` must have distinct names, got {names}")
    return tuple(metric(*m) for m in metrics)  # checked, whoever built them


def _fresh_metric(reduce: Reducer, shape: tuple[int, ...]) -> tuple[Array, ...]:
    """A metric's running reduction before an episode's first step: all zeros (so that a reset
    needs no settings), a sum's Kahan pair or a value and whether it has one."""
    zero, no = jnp.zeros(shape, jnp.float32), jnp.zeros(shape, jnp.bool_)
    if reduce in ("sum", "mean"):
        return (zero, zero)
    if reduce in ("max", "min", "first"):
        return (zero, no)
    return (no,) if reduce == "any" else (zero,)


def _reduce_step(
    m: Metric, running: tuple[Array, ...], value: Array, counts: Array, length: Array
) -> tuple[tuple[Array, ...], Array]:
    """One step of a metric's reduction, elementwise (the same for both layouts).

    Args:
      m: the metric.
      running: its running reduction before the step (``_fresh_metric`` at an episode's start).
      value: this step's values (f32, or bool for "any" and "first").
      counts: whether the step counts (next-step reset steps do not).
      length: the episode's counted steps after this step.

    Returns:
      ``(running, final)``: the running reduction after the step (not reset where an episode
      ended) and what the episode's value is if it ended on this step.
    """
    if m.reduce in ("sum", "mean"):
        if m.discount is not None:  # step t (from 0) weighs discount**t: a power, no drift
            exponent = (length - 1).astype(jnp.float32)
            value = value * jnp.power(jnp.float32(m.discount), exponent)
        total, compensation = _kahan_add(running[0], running[1], value)
        total = jnp.where(counts, total, running[0])
        compensation = jnp.where(counts, compensation, running[1])
        final = total - compensation
        if m.reduce == "mean":
            final = final / jnp.maximum(length, 1).astype(jnp.float32)
        return (total, compensation), final
    if m.reduce == "any":
        (held,) = running
        held = held | (counts & value)
        return (held,), held.astype(jnp.float32)
    if m.reduce == "last":
        (previous,) = running
        new = jnp.where(counts, value, previous)
        return (new,), new
    previous, has = running
    if m.reduce == "first":
        now = counts & value & ~has
        step_of = jnp.where(now, length.astype(jnp.float32), previous)
        has = has | now
        return (step_of, has), jnp.where(has, step_of, jnp.nan)
    better = jnp.maximum if m.reduce == "max" else jnp.minimum
    new = jnp.where(counts, jnp.where(has, better(previous, value), value), previous)
    has = has | counts
    empty = -jnp.inf if m.reduce == "max" else jnp.inf  # no counted step (a 0-step episode)
    return (new, has), jnp.where(has, new, empty)


def _reset_metrics(running: dict[str, tuple[Array, ...]], keep: Array) -> dict[str, tuple]:
    """The running reductions with the envs not kept back at their fresh (zero) values."""
    return {
        name: tuple(jnp.where(keep, r, jnp.zeros_like(r)) for r in values)
        for name, values in running.items()
    }


def _metric_values(
    metrics: tuple[Metric, ...], transition: Transition, env_shape: tuple[int, ...]
) -> dict[str, Array]:
    """Each metric's value of this step, checked (one per env), as f32 (bool for flags)."""
    values = {}
    for m in metrics:
        value = m.value(transition)
        name = f"the value of metric {m.name!r}"
        if m.reduce in ("any", "first"):
            values[m.name] = flag_array(name, value, env_shape)
        else:
            values[m.name] = reward_array(name, value, env_shape)
    return values


def _check_metric_state(function: str, stats: EpisodeStats, metrics: tuple[Metric, ...]) -> None:
    want = sorted(m.name for m in metrics)
    got = sorted(stats.metric_running)
    if want != got:
        raise ValueError(
            f"fnrec.stats.{function}: `stats` was made for the metrics {got}, but this step "
            f"records {want}: init the statistics with the same metrics (statistics.init)"
        )


class EpisodeStatistics(NamedTuple):
    """Episode statistics with their settings bound (made by ``episode_statistics``); pure.

    Attributes:
      init: ``(num_envs=None) -> EpisodeStats``, fresh statistics (see ``fnrec.stats.init``).
      step: ``(stats, reward, terminated, truncated) -> (stats, ended)`` in the bound
        autoreset mode (see ``fnrec.stats.step``).
      reset: ``(stats, mask=None) -> EpisodeStats`` (see ``fnrec.stats.reset``).
      buffer_length: how many finished episodes the queue keeps.
      autoreset_mode: ``"same_step"``, ``"next_step"`` or ``"disabled"``.
      metrics: the per-episode metrics recorded (``Metric``), in order.
      shards: None, or the number of rings the shared queue is kept in (see ``init``).

    ``step`` also takes the keyword arguments ``info``, ``env_state`` and ``obs`` that the
    metrics read (``Transition``); a ``fnrec.Recording`` passes the env's.
    """

    init: Callable[..., EpisodeStats]
    step: Callable[..., tuple[EpisodeStats, EpisodeEnded]]
    reset: Callable[..., EpisodeStats]
    buffer_length: int
    autoreset_mode: AutoresetMode
    metrics: tuple[Metric, ...] = ()
    shards: int | None = None


def episode_statistics(
    buffer_length: int = 100,
    autoreset_mode: AutoresetMode = "same_step",
    metrics: Sequence[Metric] = (),
    shards: int | None = None,
) -> EpisodeStatistics:
    """The statistics as one object, settings bound once (what adapters and host envs take).

    Args:
      buffer_length: how many finished episodes the queue keeps (>= 1).
      autoreset_mode: the env's autoreset convention, as in ``fnrec.stats.step``.
      metrics: per-episode metrics to record beside the return (``fnrec.stats.metric``,
        ``discounted_return``, ``success``).
      shards: None, or S >= 1 to keep a batch's shared queue in S rings, one per shard of the
        env axis (see ``init``): for a batch sharded over S devices, a step then has no
        collective.

    Returns:
      An ``EpisodeStatistics`` of pure functions: nothing can mix autoreset modes between steps.

    Example::

        >>> import fnrec
        >>> statistics = fnrec.stats.episode_statistics(buffer_length=10)
        >>> stats = statistics.init(num_envs=2)
        >>> stats, ended = statistics.step(stats, 1.0, [False, True], False)
        >>> ended.mask.tolist(), ended.episode_return.tolist()
        ([False, True], [0.0, 1.0])
    """
    check_buffer_length(buffer_length)
    autoreset_mode = _checks.autoreset_mode(autoreset_mode)
    metrics = _check_metrics(metrics)
    shards = _check_shards(shards)

    def bound_init(num_envs: int | None = None) -> EpisodeStats:
        return init(num_envs, buffer_length, metrics, shards)

    def bound_step(
        stats: EpisodeStats,
        reward: ArrayLike,
        terminated: ArrayLike,
        truncated: ArrayLike,
        *,
        info: Any = None,
        env_state: Any = None,
        obs: Any = None,
    ) -> tuple[EpisodeStats, EpisodeEnded]:
        _check_buffer(stats, buffer_length)
        return step(
            stats, reward, terminated, truncated, autoreset_mode,
            metrics=metrics, info=info, env_state=env_state, obs=obs,
        )  # fmt: skip

    return EpisodeStatistics(
        bound_init, bound_step, reset, buffer_length, autoreset_mode, metrics, shards
    )


def _check_buffer(stats: Any, buffer_length: int) -> None:
    if isinstance(stats, EpisodeStats) and stats.return_queue.shape[-1] != buffer_length:
        raise ValueError(
            f"`stats` must come from this EpisodeStatistics' init (buffer_length="
            f"{buffer_length}), got a queue of {stats.return_queue.shape[-1]} entries"
        )


def init(
    num_envs: int | None = None,
    buffer_length: int = 100,
    metrics: Sequence[Metric] = (),
    shards: int | None = None,
) -> EpisodeStats:
    """Fresh statistics: no episode started or finished.

    Args:
      num_envs: None for one environment, or N >= 1 for a batch of N with one shared queue.
      buffer_length: how many finished episodes the queue keeps (>= 1).
      metrics: the per-episode metrics the statistics will record (``Metric``).
      shards: None, or S >= 1 dividing N: the shared queue is kept in S rings of
        `buffer_length`, shard s holding the episodes of envs ``s * N/S`` to
        ``(s + 1) * N/S - 1``. With the env axis sharded over S devices (and the rings'
        leading axis with it), ``step`` then writes each device's episodes into its own ring
        with no collective; ``queues``, ``summary`` and ``episode_count`` read the last
        `buffer_length` episodes of all rings in Gymnasium's order (``merged``), the same as
        one ring.

    Returns:
      An EpisodeStats; the same dtypes with ``jax_enable_x64`` on and off.

    Example (8 envs, 2 rings; read as one queue)::

        >>> import fnrec
        >>> stats = fnrec.stats.init(num_envs=8, buffer_length=3, shards=2)
        >>> stats.return_queue.shape, stats.running_return.shape
        ((2, 3), (8,))
        >>> stats, _ = fnrec.stats.step(stats, list(range(8)), [True] * 8, False)
        >>> fnrec.stats.queues(stats)["return_queue"].tolist()  # the last 3, as with one ring
        [5.0, 6.0, 7.0]
    """
    check_num_envs(num_envs)
    check_buffer_length(buffer_length)
    metrics = _check_metrics(metrics)
    shards = _check_shards(shards, num_envs)
    env_shape = () if num_envs is None else (num_envs,)
    queue_shape = (buffer_length,) if shards is None else (shards, buffer_length)
    ring_shape = queue_shape[:-1]
    return EpisodeStats(
        running_return=jnp.zeros(env_shape, jnp.float32),
        running_compensation=jnp.zeros(env_shape, jnp.float32),
        running_length=jnp.zeros(env_shape, jnp.int32),
        prev_done=jnp.zeros(env_shape, jnp.bool_),
        return_queue=jnp.zeros(queue_shape, jnp.float32),
        length_queue=jnp.zeros(queue_shape, jnp.int32),
        terminated_queue=jnp.zeros(queue_shape, jnp.bool_),
        end_queue=jnp.zeros(queue_shape, jnp.uint32),
        queue_head=jnp.zeros(ring_shape, jnp.int32),
        episode_count=counter.zeros(ring_shape),
        env_steps=counter.zeros(),
        metric_running={m.name: _fresh_metric(m.reduce, env_shape) for m in metrics},
        metric_queue={m.name: jnp.zeros(queue_shape, jnp.float32) for m in metrics},
    )


def _check_shards(shards: Any, num_envs: int | Literal[False] | None = False) -> int | None:
    """`shards` checked (and against `num_envs` unless False): None or an int S >= 1."""
    shards = _checks.check_int("shards", shards, 1, None, none="one ring")
    if shards is None or num_envs is False:
        return shards
    if num_envs is None:
        raise ValueError(
            f"`shards` splits a batch's shared queue: it needs num_envs=N, got shards={shards} "
            "for one env (num_envs=None; under jax.vmap each env has its own queue already)"
        )
    if num_envs % shards:
        raise ValueError(
            f"`shards` must divide `num_envs` (each ring keeps one shard of the batch's envs), "
            f"got shards={shards} for num_envs={num_envs}"
        )
    return shards


def _shards(stats: EpisodeStats) -> int | None:
    """S for a state made with ``shards=S`` (its rings have an axis that env_steps lacks)."""
    if stats.queue_head.ndim > jnp.ndim(stats.env_steps.lo):
        return stats.queue_head.shape[-1]
    return None


@auto_within
def step(
    stats: EpisodeStats,
    reward: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    autoreset_mode: AutoresetMode = "same_step",
    *,
    metrics: Sequence[Metric] = (),
    info: Any = None,
    env_state: Any = None,
    obs: Any = None,
) -> tuple[EpisodeStats, EpisodeEnded]:
    """Records one environment step.

    Args:
      stats: the statistics before the step.
      reward: the step's reward, shaped like ``stats.running_return`` (scalar or [N]).
      terminated: whether the episode reached a terminal state (bool, or numbers read as != 0).
      truncated: whether the episode was cut off (time limit), same shape and reading.
      autoreset_mode: ``"same_step"`` (gymnax/brax: the done step's reward counts and the
        next step starts a new episode), ``"next_step"`` (Gymnasium's vector default: the step
        after a done is a reset step whose reward and length are not counted), or
        ``"disabled"`` (the caller resets finished envs with ``reset(stats, mask)``; a finished
        env that is stepped without that reset is counted as in ``"next_step"``, as Gymnasium
        does).
      metrics: the per-episode metrics `stats` was made with (``init(..., metrics)``).
      info: the env's info dict of the step, for the metrics (``Transition.info``).
      env_state: the env state after the step, before autoreset, for the metrics.
      obs: the step's observation, before autoreset, for the metrics.

    Returns:
      ``(stats, ended)``: the updated statistics and the episodes that finished on this step.

    Example (two envs; env 1's episode ends on the second step, inside jit)::

        >>> import jax, fnrec
        >>> step = jax.jit(fnrec.stats.step)
        >>> stats = fnrec.stats.init(num_envs=2, buffer_length=10)
        >>> stats, ended = step(stats, [1.0, 2.0], [False, False], [False, False])
        >>> stats, ended = step(stats, [1.0, 2.0], [False, True], [False, False])
        >>> ended.mask.tolist(), ended.episode_return.tolist(), ended.length.tolist()
        ([False, True], [0.0, 4.0], [0, 2])
        >>> fnrec.stats.queues(stats)["return_queue"].tolist(), fnrec.stats.episode_count(stats)
        ([4.0], 1)
    """
    _check_one_state("step", stats)
    autoreset_mode = _checks.autoreset_mode(autoreset_mode)
    metrics = _check_metrics(metrics)
    _check_metric_state("step", stats, metrics)
    env_shape = stats.running_return.shape
    reward = reward_array("reward", reward, env_shape)
    terminated = flag_array("terminated", terminated, env_shape)
    truncated = flag_array("truncated", truncated, env_shape)
    transition = Transition(reward, terminated, truncated, {} if info is None else info,
                            env_state, obs)  # fmt: skip
    values = _metric_values(metrics, transition, env_shape)

    # On a next-step reset step the running sums are already zero; only skip counting. As in
    # Gymnasium, "disabled" counts like "next_step": `reset(stats, mask)` clears the flag.
    counts = jnp.ones(env_shape, jnp.bool_) if autoreset_mode == "same_step" else ~stats.prev_done
    total, compensation = _kahan_add(stats.running_return, stats.running_compensation, reward)
    total = jnp.where(counts, total, stats.running_return)
    compensation = jnp.where(counts, compensation, stats.running_compensation)
    length = stats.running_length + (counts & (stats.running_length < _MAX_LENGTH))

    done = terminated | truncated
    final_return = total - compensation
    metric_running, metric_final = {}, {}
    for m in metrics:
        running, final = _reduce_step(
            m, stats.metric_running[m.name], values[m.name], counts, length
        )
        metric_final[m.name] = jnp.where(done, final, 0.0)
        metric_running[m.name] = running
    # `where`, not multiplication: a NaN must not survive into the next episode.
    metric_running = _reset_metrics(metric_running, ~done)
    ended = EpisodeEnded(
        mask=done,
        episode_return=jnp.where(done, final_return, 0.0),
        length=jnp.where(done, length, 0),
        terminated=terminated & done,
        truncated=truncated & done,
        metrics=metric_final,
    )
    num_envs = int(np.prod(env_shape, dtype=np.int64))
    env_steps = counter.add(stats.env_steps, num_envs)
    queue = _push(stats, ended, env_steps.lo)
    new_stats = EpisodeStats(
        # `where`, not multiplication: a NaN return must not survive into the next episode.
        running_return=jnp.where(done, 0.0, total),
        running_compensation=jnp.where(done, 0.0, compensation),
        running_length=jnp.where(done, 0, length),
        prev_done=done,
        return_queue=queue.return_queue,
        length_queue=queue.length_queue,
        terminated_queue=queue.terminated_queue,
        end_queue=queue.end_queue,
        queue_head=queue.queue_head,
        episode_count=counter.add(stats.episode_count, queue.num_finished),
        env_steps=env_steps,
        metric_running=metric_running,
        metric_queue=queue.metric_queue,
    )
    return jax.tree.map(lax.stop_gradient, new_stats), jax.tree.map(lax.stop_gradient, ended)


@auto_within
def reset(stats: EpisodeStats, mask: ArrayLike | None = None) -> EpisodeStats:
    """Drops the partial episodes of the masked environments (nothing is queued).

    Args:
      stats: the statistics.
      mask: None to reset every environment, else a flag per environment (same shape as
        ``stats.running_return``); only those environments are reset.

    Returns:
      The statistics with the masked environments' running return and length at zero.
    """
    _check_one_state("reset", stats)
    env_shape = stats.running_return.shape
    keep = jnp.zeros(env_shape, jnp.bool_) if mask is None else ~flag_array("mask", mask, env_shape)
    return stats._replace(
        metric_running=_reset_metrics(stats.metric_running, keep),
        running_return=jnp.where(keep, stats.running_return, 0.0),
        running_compensation=jnp.where(keep, stats.running_compensation, 0.0),
        running_length=jnp.where(keep, stats.running_length, 0),
        prev_done=keep & stats.prev_done,
    )


SUMMARY_KEYS: tuple[str, ...] = (
    "count",
    "return_mean",
    "return_min",
    "return_max",
    "length_mean",
    "length_min",
    "length_max",
    "terminated_fraction",
)


def summary(
    stats: EpisodeStats, last: int | None = None, percentiles: Sequence[float] = ()
) -> dict[str, Array]:
    """Pure, jittable: scalars over the finished episodes in the queue(s), for logging in jit.

    Only finished episodes count (empty ring slots never do, unlike a ``.mean()`` over
    ``info["episode"]["r"]``, which is 0 where nothing finished). A state vmapped over envs (one
    queue per env) is pooled: every env's queued episodes together.

    ``last=N`` keeps the N episodes that ended most recently, pooled across per-env queues by
    when they ended (``end_queue``) and, within one step, in env-index order: the same episodes
    as the last N of one shared queue over the same run. Without it, every queued episode counts
    (with per-env queues of B, up to B per env: far more than the last B of the run).

    Args:
      stats: the statistics (shared, or with leading vmapped axes).
      last: None for every queued episode, or N >= 1 for the N most recently finished ones
        (fewer while fewer are queued).
      percentiles: percentiles to add, each from 0 to 100 (numpy's linear interpolation):
        ``"return_p{q:g}"`` and ``"length_p{q:g}"`` (e.g. ``"return_p50"``), and the same for
        each metric.

    Returns:
      ``{"count": int32, "return_mean", "return_min", "return_max", "length_mean",
      "length_min", "length_max", "terminated_fraction": float32}`` and the percentiles asked
      for; per metric, ``"{name}_mean"``, ``"{name}_min"``, ``"{name}_max"`` (and its
      percentiles) over the selected episodes whose value is not NaN (``"first"`` gives NaN
      when the flag never held: its mean is over the episodes where it did). With no finished
      episode, count is 0 and the others NaN. Order over per-env queues
      is exact while the pooled episodes ended within 2**32 env steps of each state's last step.

    Example::

        >>> import jax, fnrec
        >>> stats = fnrec.stats.init(num_envs=2, buffer_length=10)
        >>> stats, _ = fnrec.stats.step(stats, [1.0, 3.0], [True, False], [False, True])
        >>> s = jax.jit(fnrec.stats.summary)(stats)
        >>> int(s["count"]), float(s["return_mean"]), float(s["terminated_fraction"])
        (2, 2.0, 0.5)
        >>> s = fnrec.stats.summary(stats, last=1, percentiles=(50,))
        >>> int(s["count"]), float(s["return_max"]), float(s["return_p50"])
        (1, 3.0, 3.0)
    """
    check_instance("fnrec.stats.summary", "stats", stats, EpisodeStats)
    last = _checks.check_int("last", last, 1, None, none="every queued episode")
    percentiles = _check_percentiles(percentiles)
    stats = merged(stats)
    valid = _queued(stats) if last is None else _most_recent(stats, last)
    fields = {"return": stats.return_queue, "length": stats.length_queue.astype(jnp.float32)}
    valid = valid.reshape(-1)
    count = jnp.sum(valid, dtype=jnp.int32)
    out = {"count": count}
    for name, values in fields.items():
        out.update(_described(name, values.reshape(-1), valid, count, percentiles))
    out["terminated_fraction"] = _masked_mean(
        stats.terminated_queue.reshape(-1).astype(jnp.float32), valid, count
    )
    for name, values in stats.metric_queue.items():
        values = values.reshape(-1)
        has = valid & ~jnp.isnan(values)
        out.update(_described(name, values, has, jnp.sum(has, dtype=jnp.int32), percentiles))
    return {key: out[key] for key in (*SUMMARY_KEYS, *out) if key in out}


def _check_percentiles(percentiles: Any) -> tuple[float, ...]:
    try:
        values = tuple(float(q) for q in percentiles)
    except (TypeError, ValueError):
        values = None
    if values is None or any(not 0 <= q <= 100 for q in values):
        raise ValueError(
            f"`percentiles` must be a sequence of numbers from 0 to 100, got {percentiles!r}"
        )
    return values


def _queued(stats: EpisodeStats) -> Array:
    """bool[*batch, B]: the ring slots that hold an episode."""
    buffer_length = stats.return_queue.shape[-1]
    full = (stats.episode_count.hi > 0) | (stats.episode_count.lo >= buffer_length)
    size = jnp.where(full, buffer_length, stats.episode_count.lo.astype(jnp.int32))
    # Slots 0..size-1 hold episodes: the ring fills from slot 0 and is all real once it wraps.
    return jnp.arange(buffer_length, dtype=jnp.int32) < size[..., None]


def _most_recent(stats: EpisodeStats, last: int) -> Array:
    """bool[*batch, B]: the queued slots of the `last` most recently finished episodes.

    Newest first means: fewest env steps since the entry ended (``env_steps.lo - end_queue``,
    modulo 2**32), then the highest state index (a step's episodes end in env-index order),
    then the ring order (a shared queue's episodes of one step).
    """
    valid = _queued(stats)
    if last >= valid.size:
        return valid
    order = _newest_first(stats, valid)
    position = jnp.arange(valid.size, dtype=jnp.int32)
    rank = jnp.zeros(valid.size, jnp.int32).at[order].set(position)
    return valid & (rank < last).reshape(valid.shape)


def _newest_first(stats: EpisodeStats, valid: Array) -> Array:
    """int32[size of `valid`]: the flat indices of the queue slots, the newest episode first
    and the empty slots last (see ``_most_recent``)."""
    buffer_length = valid.shape[-1]
    shape = valid.shape
    env_steps = stats.env_steps.lo.reshape(stats.env_steps.lo.shape + (1,) * (len(shape) - 1))
    age = env_steps - stats.end_queue  # uint32: wraps exactly
    num_states = valid.size // buffer_length
    state = jnp.arange(num_states, dtype=jnp.int32).reshape((*shape[:-1], 1))
    slot = jnp.arange(buffer_length, dtype=jnp.int32)
    newness = (stats.queue_head[..., None] - 1 - slot) % buffer_length  # 0: the newest
    keys = (
        (~valid).astype(jnp.int32),
        jnp.broadcast_to(age, shape),
        jnp.broadcast_to(-state, shape),
        jnp.broadcast_to(newness, shape),
    )
    flat = [k.reshape(-1) for k in keys]
    position = jnp.arange(valid.size, dtype=jnp.int32)
    return lax.sort((*flat, position), num_keys=len(flat))[-1]


def _masked_mean(values: Array, valid: Array, count: Array) -> Array:
    total = jnp.sum(jnp.where(valid, values, 0.0))
    return jnp.where(count > 0, total / jnp.maximum(count, 1).astype(jnp.float32), jnp.nan)


def _described(
    name: str, values: Array, valid: Array, count: Array, percentiles: tuple[float, ...]
) -> dict[str, Array]:
    """Mean, min, max and percentiles of the `valid` entries of `values` (NaN when none)."""
    some = count > 0
    nan = jnp.float32(jnp.nan)
    out = {
        f"{name}_mean": _masked_mean(values, valid, count),
        f"{name}_min": jnp.where(some, jnp.min(jnp.where(valid, values, jnp.inf)), nan),
        f"{name}_max": jnp.where(some, jnp.max(jnp.where(valid, values, -jnp.inf)), nan),
    }
    if percentiles:
        # Valid entries first, in ascending order (a NaN among them sorts last, as in numpy).
        _, ordered = lax.sort(((~valid).astype(jnp.int32), values), num_keys=2)
        top = jnp.maximum(count - 1, 0)
        for q in percentiles:
            position = jnp.float32(q / 100.0) * top.astype(jnp.float32)
            below = jnp.floor(position).astype(jnp.int32)
            above = jnp.minimum(below + 1, top)
            low, high = ordered[below], ordered[above]
            fraction = position - below.astype(jnp.float32)
            value = jnp.where(fraction > 0, low + (high - low) * fraction, low)
            out[f"{name}_p{q:g}"] = jnp.where(some, value, nan)
    return out


def _check_one_state(function: str, stats: Any) -> None:
    """Raises unless `stats` is ONE state (one env, or a batch with one shared queue).

    Per-env statistics made under ``jax.vmap`` carry a queue per env ([N, B]); an unvmapped
    ``step`` would read them as a batch of N with one queue and mix every env's episodes.
    """
    check_instance(f"fnrec.stats.{function}", "stats", stats, EpisodeStats)
    shards = _shards(stats)
    rings = () if shards is None else (shards,)
    if stats.return_queue.shape[:-1] != rings or stats.queue_head.shape != rings:
        raise ValueError(
            f"fnrec.stats.{function}: `stats` holds one queue per env (queues of shape "
            f"{stats.return_queue.shape}, made under jax.vmap); {function} it under jax.vmap too "
            f"(jax.vmap(fnrec.stats.{function})), or make one shared queue with "
            "fnrec.stats.init(num_envs=N)"
        )
    if shards is not None and (
        stats.running_return.ndim != 1 or stats.running_return.shape[0] % shards
    ):
        raise ValueError(
            f"fnrec.stats.{function}: `stats` keeps {shards} rings (shards={shards}), which must "
            f"divide its envs; got running fields of shape {stats.running_return.shape}"
        )


def merged(stats: EpisodeStats) -> EpisodeStats:
    """Pure, jittable: a state made with ``shards=S`` as one queue (the same state otherwise).

    The S rings hold each shard's last episodes; one ring over the same run holds the last B of
    all of them, in the order they ended and, within a step, in env-index order. This picks
    those B from the S rings (by ``end_queue``, then shard, then ring order), so that every
    reader gives what one ring gives: ``queues``, ``summary``, ``episode_count`` (the sum of
    the rings' counts). Readers call it themselves; call it to hand a tracker or a checkpoint
    reader the one-queue form.

    Args:
      stats: statistics, possibly with ``shards`` (and leading vmapped axes).

    Returns:
      An EpisodeStats whose queue leaves have no shard axis (``[B]``, ``queue_head`` and
      ``episode_count`` scalars per state); the running fields unchanged.

    Example::

        >>> import jax, fnrec
        >>> stats = fnrec.stats.init(num_envs=4, buffer_length=2, shards=2)
        >>> stats, _ = fnrec.stats.step(stats, [1.0, 2.0, 3.0, 4.0], True, False)
        >>> one = jax.jit(fnrec.stats.merged)(stats)
        >>> one.return_queue.shape, one.return_queue.tolist(), int(one.episode_count.lo)
        ((2,), [3.0, 4.0], 4)
    """
    check_instance("fnrec.stats.merged", "stats", stats, EpisodeStats)
    if _shards(stats) is None:
        return stats
    merge = _merge_rings
    for _ in range(jnp.ndim(stats.env_steps.lo)):  # vmapped states: each merged on its own
        merge = jax.vmap(merge)
    return stats._replace(**auto_within(merge)(stats))


def _merge_rings(stats: EpisodeStats) -> dict[str, Any]:
    """One state's S rings ([S, B]) as the one ring of B the same run fills: its fields."""
    shards, buffer_length = stats.return_queue.shape
    total = counter.Counter64(jnp.sum(stats.episode_count.hi, dtype=jnp.uint32),
                              jnp.zeros((), jnp.uint32))  # fmt: skip
    for shard in range(shards):
        total = counter.add(total, stats.episode_count.lo[shard])
    # Slots of all rings, newest first (as summary's last=N orders pooled queues): the first
    # min(total, B) of them are the queue. One ring writes the k-th episode to slot k mod B;
    # so does this (its head, the total count mod B, is the sum of the rings' heads mod B),
    # and sums over the queue add in the same order as one ring's.
    valid = _queued(stats)
    newest_first = _newest_first(stats, valid)
    kept = jnp.minimum(jnp.sum(valid, dtype=jnp.int32), buffer_length)
    head = jnp.sum(stats.queue_head % buffer_length, dtype=jnp.int32) % buffer_length
    newness = (head - 1 - jnp.arange(buffer_length, dtype=jnp.int32)) % buffer_length
    source = newest_first[newness]
    filled = newness < kept

    def one_ring(queue: Array) -> Array:
        return jnp.where(filled, queue.reshape(-1)[source], jnp.zeros((), queue.dtype))

    return {
        "return_queue": one_ring(stats.return_queue),
        "length_queue": one_ring(stats.length_queue),
        "terminated_queue": one_ring(stats.terminated_queue),
        "end_queue": one_ring(stats.end_queue),
        "queue_head": head,
        "episode_count": total,
        "metric_queue": {name: one_ring(values) for name, values in stats.metric_queue.items()},
    }


def _kahan_add(total: Array, compensation: Array, value: Array) -> tuple[Array, Array]:
    """Adds `value` to a Kahan-compensated sum; the true sum is ``total - compensation``.

    Keeps float32 returns of million-step episodes within float32 rounding of the exact sum
    (a naive float32 sum of a million rewards of 0.1 is 1% off). The compensation stays below
    one rounding step of `total`, unlike Neumaier's variant, whose compensation grows with a
    steady drift and then loses precision itself.
    """
    corrected = value - compensation
    new_total = total + corrected
    lost = (new_total - total) - corrected
    # An infinite reward makes `lost` NaN; the plain sum is then the right answer.
    return new_total, jnp.where(jnp.isfinite(lost), lost, 0.0)


class _Queue(NamedTuple):
    return_queue: Array
    length_queue: Array
    terminated_queue: Array
    end_queue: Array
    queue_head: Array
    num_finished: Array
    metric_queue: dict[str, Array]


def _push(stats: EpisodeStats, ended: EpisodeEnded, now: Array) -> _Queue:
    """Writes this step's finished episodes into the ring, or each shard's into its own ring."""
    shards = _shards(stats)
    if shards is None:
        return _push_finished(stats, ended, now)
    # Shard s's envs are the s-th block of the env axis: split along it, one ring per block.
    by_shard = lambda x: x.reshape(shards, -1, *x.shape[1:])  # noqa: E731
    ended = jax.tree.map(by_shard, ended)
    rings = EpisodeStats(  # vmapped over the queue's leaves; the rest is not read
        running_return=None, running_compensation=None, running_length=None, prev_done=None,
        return_queue=0, length_queue=0, terminated_queue=0, end_queue=0, queue_head=0,
        episode_count=0, env_steps=None, metric_running=None, metric_queue=0,
    )  # fmt: skip
    return jax.vmap(_push_finished, in_axes=(rings, 0, None))(stats, ended, now)


def _push_finished(stats: EpisodeStats, ended: EpisodeEnded, now: Array) -> _Queue:
    """Writes this step's finished episodes into the shared ring, in env-index order.

    Why this formulation: the naive update (a cumulative sum of the N done flags, then a
    scatter of all N envs into the ring) costs about 1.18x a 4096-env CartPole rollout on a CPU,
    where the cost is mostly the number of small kernels, not arithmetic. Two observations
    make it cheap:
    - Only the last ``min(k, B)`` of the k episodes finished on this step can survive in a ring
      of B slots, so each of the B slots *gathers* the episode that lands on it instead of all
      N envs scattering: slot j sits at offset ``d = (j - head) mod B`` and receives, when
      ``d < k``, the episode of rank ``r = d + B * floor((k - 1 - d) / B)`` (the last rank
      congruent to d).
    - Finding the env of rank r needs prefix counts of the done flags; packed 32 to a uint32
      word, the prefix sum runs over N/32 popcounts, the word of rank r is a [B, N/32]
      compare-and-count (one fused kernel; a binary search when B * N/32 is large), and the bit
      inside the word a 5-step binary search on popcounts, all elementwise on [B].

    With the env axis sharded over devices, the step compiles to two small all-reduces and
    nothing env-sized: the done flags are first made whole on every device
    (``fnrec._flags.replicated``) and the B slots' values are then gathered as int32 arrays,
    which XLA combines into one. Every episode of one step ends at the same time `now` (the low
    word of ``env_steps`` after the step), so ``end_queue`` needs no gather.
    """
    mask = ended.mask.reshape(-1)
    num_envs = mask.shape[0]
    buffer_length = stats.return_queue.shape[0]
    if num_envs == 1:
        return _push_one(stats, ended, now)
    mask = _flags.replicated(mask)
    num_words = -(-num_envs // 32)
    bits = jnp.pad(mask, (0, num_words * 32 - num_envs)).reshape(num_words, 32)
    words = jnp.sum(
        bits.astype(jnp.uint32) << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32
    )
    word_counts = lax.population_count(words).astype(jnp.int32)
    finished_through_word = jnp.cumsum(word_counts)
    num_finished = finished_through_word[-1]

    offset = (jnp.arange(buffer_length, dtype=jnp.int32) - stats.queue_head) % buffer_length
    written = offset < num_finished
    rank = offset + buffer_length * ((num_finished - 1 - offset) // buffer_length)
    # A [B, N/32] compare-and-count is one fused kernel, best while small; past that, a binary
    # search (B * log2(N/32) work) keeps large buffers and batches from costing B * N / 32.
    method = "compare_all" if buffer_length * num_words <= _COMPARE_ALL_LIMIT else "scan_unrolled"
    word = jnp.searchsorted(finished_through_word, rank, side="right", method=method)
    word = jnp.minimum(word, num_words - 1).astype(jnp.int32)
    rank_in_word = rank - (finished_through_word[word] - word_counts[word])
    env = jnp.minimum(word * 32 + _nth_set_bit(words[word], rank_in_word), num_envs - 1)

    # Lengths are below 2**31, so the sign bit carries `terminated`: two int32 gathers.
    return_bits = lax.bitcast_convert_type(ended.episode_return.reshape(-1), jnp.int32)
    length_and_terminated = ended.length.reshape(-1) | (
        ended.terminated.reshape(-1).astype(jnp.int32) << 31
    )
    picked = length_and_terminated[env]
    picked_return = lax.bitcast_convert_type(return_bits[env], jnp.float32)
    metric_queue = {
        name: jnp.where(written, values.reshape(-1)[env], stats.metric_queue[name])
        for name, values in ended.metrics.items()
    }
    return _Queue(
        return_queue=jnp.where(written, picked_return, stats.return_queue),
        length_queue=jnp.where(written, picked & _MAX_LENGTH, stats.length_queue),
        terminated_queue=jnp.where(written, picked < 0, stats.terminated_queue),
        end_queue=jnp.where(written, now, stats.end_queue),
        queue_head=(stats.queue_head + num_finished) % buffer_length,
        num_finished=num_finished,
        metric_queue=metric_queue,
    )


def _push_one(stats: EpisodeStats, ended: EpisodeEnded, now: Array) -> _Queue:
    """One env (the per-env layout, under ``jax.vmap``): at most one ring write, at the head.

    The batch formulation above would gather all B slots every step; one env needs one
    dynamic-update of one slot (a scatter of one element per env under ``jax.vmap``).
    """
    done = ended.mask.reshape(())
    head = stats.queue_head
    buffer_length = stats.return_queue.shape[0]
    slot = jnp.where(done, head, buffer_length)  # out of range: nothing written, nothing read

    def put(queue: Array, value: Array) -> Array:
        return queue.at[slot].set(value.reshape(()), mode="drop")

    finished = done.astype(jnp.int32)
    return _Queue(
        return_queue=put(stats.return_queue, ended.episode_return),
        length_queue=put(stats.length_queue, ended.length),
        terminated_queue=put(stats.terminated_queue, ended.terminated),
        end_queue=put(stats.end_queue, now),
        queue_head=(head + finished) % buffer_length,
        num_finished=finished,
        metric_queue={
            name: put(stats.metric_queue[name], values) for name, values in ended.metrics.items()
        },
    )


def _nth_set_bit(word: Array, n: Array) -> Array:
    """Position of the n-th (0-based) set bit of each uint32 `word`, by binary search."""
    position = jnp.zeros_like(n)
    for width in (16, 8, 4, 2, 1):
        below = lax.population_count(
            (word >> position.astype(jnp.uint32)) & jnp.uint32((1 << width) - 1)
        ).astype(jnp.int32)
        skip = n >= below
        n = jnp.where(skip, n - below, n)
        position = jnp.where(skip, position + width, position)
    return position


# ----------------------------------------------------------------------------- host side
# These helpers read a recorded state on the host; they are not traceable.


def queues(stats: EpisodeStats) -> dict[str, np.ndarray] | list[dict[str, np.ndarray]]:
    """Host side: the finished episodes in the queue, oldest first, only real episodes.

    Args:
      stats: recorded statistics. A state vmapped over environments (one queue per env) gives
        one dict per environment, in flattened (C-order) index order.

    Returns:
      ``{"return_queue": f32[n], "length_queue": i64[n], "terminated_queue": bool[n]}`` with
      ``n = min(episode_count, buffer_length)``, and ``"{name}_queue": f32[n]`` per metric; a
      list of such dicts for a vmapped state.
    """
    check_instance("fnrec.stats.queues", "stats", stats, EpisodeStats)
    _checks.check_concrete("fnrec.stats.queues", "stats", stats, "fnrec.stats.summary(stats)")
    host = jax.device_get(gathered(stats))  # whole, also when it spans processes
    if _shards(host) is not None:
        host = jax.device_get(jax.jit(merged)(host))
    batch_shape = np.shape(host.return_queue)[:-1]
    if batch_shape:
        return [
            _one_queue(
                jax.tree.map(
                    lambda x, i=i: np.asarray(x).reshape(-1, *x.shape[len(batch_shape) :])[i], host
                )
            )
            for i in range(int(np.prod(batch_shape)))
        ]
    return _one_queue(host)


def _one_queue(host: EpisodeStats) -> dict[str, np.ndarray]:
    buffer_length = host.return_queue.shape[0]
    size = min(counter.to_int(host.episode_count), buffer_length)
    head = int(host.queue_head)
    order = (np.arange(size) + head - size) % buffer_length
    out = {
        "return_queue": np.asarray(host.return_queue)[order],
        "length_queue": np.asarray(host.length_queue).astype(np.int64)[order],
        "terminated_queue": np.asarray(host.terminated_queue)[order],
    }
    for name, values in host.metric_queue.items():
        out[f"{name}_queue"] = np.asarray(values)[order]
    return out


def episode_count(stats: EpisodeStats) -> int | np.ndarray:
    """Host side: how many episodes have finished, exact (never wraps).

    Args:
      stats: recorded statistics.

    Returns:
      A Python int; for a state vmapped over environments, an int64/object array of counts.
    """
    check_instance("fnrec.stats.episode_count", "stats", stats, EpisodeStats)
    _checks.check_concrete(
        "fnrec.stats.episode_count", "stats", stats, "stats.episode_count (a Counter64)"
    )
    stats = gathered(stats)
    hi = np.asarray(jax.device_get(stats.episode_count.hi)).astype(object)
    lo = np.asarray(jax.device_get(stats.episode_count.lo)).astype(object)
    counts = (hi << 32) + lo
    if _shards(stats) is not None:  # one count per ring
        counts = counts.sum(axis=-1)
    if np.ndim(counts) == 0:
        return int(counts)
    return counts


def host_info(ended: EpisodeEnded, elapsed: ArrayLike | None = None) -> dict[str, Any]:
    """Host side: Gymnasium's info entries for the episodes that just finished, with ``"t"``.

    ``EpisodeEnded.to_info()`` is the pure form (arrays, inside jit, no time); this one is what a
    host env returns: numpy values, the wall-clock ``"t"``, and a single env's scalar form.

    Args:
      ended: the ``ended`` value returned by ``step``.
      elapsed: optional wall-clock seconds of each episode (host-measured), same shape as
        ``ended.mask``; becomes ``"t"`` rounded to 6 decimals as Gymnasium does.

    Returns:
      For a batch, ``{"episode": {"r", "l", *metrics[, "t"]}, "_episode": mask}`` as numpy
      arrays that are
      0 where no episode finished. For one environment, ``{"episode": {"r": float, "l": int
      [, "t": float]}}`` if it finished, else ``{}``.
    """
    check_instance("fnrec.stats.host_info", "ended", ended, EpisodeEnded)
    _checks.check_concrete("fnrec.stats.host_info", "ended", ended, "ended.to_info()")
    host = jax.device_get(ended)
    mask = np.asarray(host.mask)
    episode: dict[str, Any] = {
        "r": np.asarray(host.episode_return),
        "l": np.asarray(host.length).astype(np.int64),
        **{name: np.asarray(values) for name, values in host.metrics.items()},
    }
    if elapsed is not None:
        episode["t"] = np.where(mask, np.round(np.asarray(elapsed, np.float64), 6), 0.0)
    if mask.ndim == 0:
        if not mask:
            return {}
        return {"episode": {k: v.item() for k, v in episode.items()}}
    return {"episode": episode, "_episode": mask}


def to_info(ended: EpisodeEnded, elapsed: ArrayLike | None = None) -> dict[str, Any]:
    """Deprecated name of ``host_info`` (``EpisodeEnded.to_info()`` is the pure one)."""
    import warnings

    warnings.warn(
        "fnrec.stats.to_info is deprecated; use fnrec.stats.host_info (host, with 't') or "
        "EpisodeEnded.to_info() (pure, inside jit)",
        DeprecationWarning,
        stacklevel=2,
    )
    return host_info(ended, elapsed)
