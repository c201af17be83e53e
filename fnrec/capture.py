"""In-graph episode capture: keep what is needed to show chosen episodes, inside jit.

Traced side, pure. A capture state is a pytree updated once per environment step, next to the
episode statistics, inside ``jax.jit``, ``jax.vmap`` and ``lax.scan``. It keeps, for every
episode a trigger chooses, one *item* per frame: the env state by default (small; rendered after
the run), or whatever ``content(env_state)`` returns (a frame from a jittable renderer, a few
fields of a large state). An episode of L steps has L + 1 frames: the reset frame, then one after
every step; same-step autoreset keeps the final frame (the state before the reset).

Two ways to choose episodes:

- **watched envs** (``watch=(0,)``): a few chosen envs of the batch; episode ids count that env's
  own episodes (0, 1, 2, ...). Cheap: only the watched envs are stored.
- **global ids** (``watch=None``): ids number every episode of the batch in the order they end,
  in env-index order within a step (the order of fnrec's shared queue and of Gymnasium's vector
  ``RecordEpisodeStatistics``). An id is known only when the episode ends, so every env's current
  episode is kept in a row of its own until then (in env order, split with the env axis when the
  batch is sharded).

Memory is fixed at init. Every tracked env owns a *row* of ``max_length + 1`` items and
the store holds ``max_episodes`` episodes, so the buffers hold
``(tracked envs + max_episodes) * (max_length + 1)`` items. When a triggered episode ends,
its row is handed to the store (no copy) and the env takes a free row; with global ids over a
batch the rows stay with their envs instead, in env order (``items``), so that a sharded env
axis splits them, and a stored episode is copied out into the store's own rows
(``stored_items``): one row copy per stored episode. A triggered episode that finds
the store full, or that is longer than ``max_length``, is dropped and counted
(``dropped_full``, ``dropped_too_long``); the export reports both. ``clear`` empties the store
(after an export) so that a long run can be captured chunk by chunk.

With ``stream=fn`` nothing is stored: each chosen episode leaves the program when it ends,
through ``jax.debug.callback`` (only on steps where one ends), and ``fn`` receives it on the host
as a ``fnrec.Episode`` of numpy arrays (see ``fnrec.host.export.VideoStream``).

Example (a bare statistics loop over a batch of 4 envs whose state is one float each)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> capture = fnrec.capture.episode_capture(max_length=10, max_episodes=4,
    ...                                         watch=None, trigger=lambda episode_id: True)
    >>> env_state = jnp.zeros(4)
    >>> stats, cap = fnrec.stats.init(4), capture.init(env_state, num_envs=4)
    >>> for t in range(3):
    ...     next_state = env_state + 1.0
    ...     done = jnp.array([t == 1, False, t == 2, False])
    ...     stats, ended = fnrec.stats.step(stats, 1.0, done, False)
    ...     reset_state = jnp.where(done, 0.0, next_state)   # same-step autoreset
    ...     cap = capture.step(cap, ended, next_state, reset_state)
    ...     env_state = reset_state
    >>> int(cap.num_stored), cap.stored.episode_id[:2].tolist(), cap.stored.length[:2].tolist()
    (2, [0, 1], [2, 3])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.typing import ArrayLike

from fnrec import _checks, _flags
from fnrec._explicit import auto_within
from fnrec.episodes import Episode
from fnrec.episodes import received as received_episode
from fnrec.schedules import capped_cubic_video_schedule
from fnrec.stats import AutoresetMode, EpisodeEnded

Trigger = Callable[[Array], Array]
Content = Callable[[Any], Any]


class Finished(NamedTuple):
    """What an outcome trigger sees: the tracked envs' episodes that end on a step ([T] each).

    Attributes:
      episode_id: int32[T], each episode's id (watched: the env's own count; else global).
      env: int32[T], the env index in the batch (0 for a capture under ``jax.vmap``).
      episode_return: f32[T], the return.
      length: int32[T], the steps.
      terminated: bool[T], ended by termination.
      truncated: bool[T], ended by truncation.
      metrics: ``{name: f32[T]}``, the statistics' per-episode metrics (``fnrec.stats.Metric``).

    Entries of envs whose episode did not end on the step hold zeros; the capture ignores
    what the trigger says of them.
    """

    episode_id: Array
    env: Array
    episode_return: Array
    length: Array
    terminated: Array
    truncated: Array
    metrics: dict[str, Array]


class OutcomeTrigger(NamedTuple):
    """A trigger that chooses finished episodes by their outcome (made by ``on_outcome``).

    Attributes:
      choose: a jittable ``(Finished) -> bool[T]``.
    """

    choose: Callable[[Finished], Array]


def on_outcome(choose: Callable[[Finished], ArrayLike]) -> OutcomeTrigger:
    """A capture trigger that sees each finished episode, not only its id.

    Every tracked env's current episode is kept in a row until it ends anyway, so the choice
    can wait for the outcome: "failures only", "every truncated one", "returns below X".

    Args:
      choose: a jittable function of a ``Finished`` (arrays with one entry per tracked env)
        returning a bool per entry.

    Returns:
      An ``OutcomeTrigger`` for ``episode_capture(trigger=...)``.

    Example (keep the episodes that fail: terminated with a return below 10)::

        >>> import jax.numpy as jnp, fnrec
        >>> capture = fnrec.capture.episode_capture(
        ...     max_length=10, watch=None, trigger=fnrec.capture.on_outcome(
        ...         lambda e: e.terminated & (e.episode_return < 10)))
        >>> stats, cap = fnrec.stats.init(2), capture.init(jnp.zeros(2), num_envs=2)
        >>> stats, ended = fnrec.stats.step(stats, [5.0, 50.0], True, False)
        >>> cap = capture.step(cap, ended, jnp.ones(2), jnp.zeros(2))
        >>> int(cap.num_stored), cap.stored.env[:1].tolist()
        (1, [0])
    """
    if not callable(choose):
        raise TypeError(f"`choose` must be a callable of a Finished, got {type(choose).__name__}")
    return OutcomeTrigger(choose)


class Ranked(NamedTuple):
    """A store that keeps the ``max_episodes`` top-ranked episodes (made by ``best``, ``worst``
    and ``most_recent``).

    Attributes:
      score: a jittable ``(Finished) -> f32[T]``, what episodes are ranked by.
      largest: True to keep the largest scores, False the smallest.
      name: what the score is, for file names and messages.
      later_wins_ties: of equal scores the later episode (the larger id) ranks higher, where
        the score is the id itself (``most_recent``, ``best("episode_id")``): a float32 score
        cannot tell ids past 2**24 apart, the ids can.
    """

    score: Callable[[Finished], Array]
    largest: bool
    name: str
    later_wins_ties: bool = False


_RANKED_FIELDS = ("episode_return", "length", "episode_id")


def _score_of(by: str | Callable[[Finished], ArrayLike]) -> tuple[Callable[[Finished], Any], str]:
    if callable(by):
        return by, getattr(by, "__name__", "score")
    if not isinstance(by, str) or not by:
        raise TypeError(
            f"`by` must be {_RANKED_FIELDS}, a metric's name or a callable of a "
            f"fnrec.capture.Finished, got {by!r}"
        )
    if by in _RANKED_FIELDS:
        return (lambda e: getattr(e, by)), by

    def metric(e: Finished) -> Any:
        if by not in e.metrics:
            raise KeyError(
                f"`by`={by!r} is neither one of {_RANKED_FIELDS} nor a metric of the statistics "
                f"(they record {sorted(e.metrics)})"
            )
        return e.metrics[by]

    return metric, by


def best(by: str | Callable[[Finished], ArrayLike] = "episode_return") -> Ranked:
    """A ranked store: keep the ``max_episodes`` episodes with the largest `by`.

    A finished episode that beats the lowest stored one replaces it, in-graph, in fixed
    memory; ties keep the earlier episode.

    Args:
      by: ``"episode_return"``, ``"length"``, ``"episode_id"``, a metric's name, or a jittable
        function of a ``Finished`` giving one score per tracked env. A NaN score ranks last.

    Returns:
      A ``Ranked`` for ``episode_capture(keep=...)``.

    Example (the 2 best of 4 episodes)::

        >>> import jax.numpy as jnp, fnrec
        >>> capture = fnrec.capture.episode_capture(5, 2, watch=None, keep=fnrec.capture.best())
        >>> stats, cap = fnrec.stats.init(4), capture.init(jnp.zeros(4), num_envs=4)
        >>> stats, ended = fnrec.stats.step(stats, [3.0, 9.0, 1.0, 7.0], True, False)
        >>> cap = capture.step(cap, ended, jnp.ones(4), jnp.zeros(4))
        >>> sorted(cap.stored.episode_return.tolist())
        [7.0, 9.0]
    """
    score, name = _score_of(by)
    return Ranked(score, True, name, later_wins_ties=name == "episode_id" and not callable(by))


def worst(by: str | Callable[[Finished], ArrayLike] = "episode_return") -> Ranked:
    """A ranked store: keep the ``max_episodes`` episodes with the smallest `by` (see ``best``).

    Args:
      by: as in ``best``.

    Returns:
      A ``Ranked`` for ``episode_capture(keep=...)``.
    """
    score, name = _score_of(by)
    return Ranked(score, False, name)


def most_recent() -> Ranked:
    """A ranked store: keep the ``max_episodes`` episodes that ended last (the largest ids).

    With global ids, the latest of the whole batch; with one watched env, that env's latest.

    Returns:
      A ``Ranked`` for ``episode_capture(keep=...)``.
    """
    return Ranked(lambda e: e.episode_id, True, "recent", later_wins_ties=True)


class StoredEpisodes(NamedTuple):
    """The table of stored episodes; slot ``i < num_stored`` is a recorded, finished episode.

    Attributes:
      row: int32[C], the buffer row that holds the episode's items (rows from ``T`` on are
        ``stored_items``' when the capture copies episodes out).
      episode_id: int32[C], the episode id (watched: the env's own count; else global).
      env: int32[C], the env index in the batch.
      length: int32[C], steps in the episode (it has ``length + 1`` frames).
      episode_return: f32[C], the episode's return (as the statistics computed it).
      terminated: bool[C], ended by termination.
      truncated: bool[C], ended by truncation.
      score: f32[C], what a ranked store (``best``, ``worst``, ``most_recent``) ranks the
        episode by; 0 for a store filled in order.
    """

    row: Array
    episode_id: Array
    env: Array
    length: Array
    episode_return: Array
    terminated: Array
    truncated: Array
    score: Array


class CaptureState(NamedTuple):
    """What ``episode_capture`` keeps between steps. ``T`` tracked envs, ``C`` store slots.

    Attributes:
      items: pytree like ``content(env_state)`` with leaves ``[T + C, max_length + 1, ...]``,
        the rows of items (the buffers); with global ids over a batch ``[T, ...]``, row t for
        env t.
      stored_items: like `items`, the store's rows ``[C, ...]`` with global ids over a batch
        (row ``T + c`` is ``stored_items[c]``), else ``[0, ...]`` (the store's rows are in
        `items`).
      row: int32[T], the row of each tracked env's current episode.
      position: int32[T], items written to the current episode (saturates one past a full row).
      own_episodes: int32[T], episodes each tracked env has ended (watched ids); stops at
        ``ID_LIMIT`` (2**31 - 1): ids never wrap, later episodes are not numbered.
      episodes_ended: int32[], episodes the whole batch has ended (global ids; 0 when
        watching); stops at ``ID_LIMIT`` as `own_episodes` does.
      prev_done: bool[T], the previous step ended the env's episode (next-step autoreset).
      stored: StoredEpisodes, the store's table.
      num_stored: int32[], how many slots of the store are used.
      free_rows: int32[C], the rows that store slots ``num_stored..C-1`` will take, in order.
      dropped_full: int32[], triggered episodes dropped because the store was full.
      dropped_too_long: int32[], triggered episodes dropped for being longer than a row.
      env_axes: bool[*E, 0], holds no data: its shape records the env axes the state was made
        for (``()`` for one env, ``(N,)`` for a batch).
      watched: bool[], True when ids count each watched env's own episodes (False: global ids).
      settings: bool[0, ...], holds no data: its shape records the capture's settings (row
        length, store size, autoreset mode, watched envs), so a state stepped, reset or cleared
        by a capture with other settings is refused.
    """

    items: Any
    stored_items: Any
    row: Array
    position: Array
    own_episodes: Array
    episodes_ended: Array
    prev_done: Array
    stored: StoredEpisodes
    num_stored: Array
    free_rows: Array
    dropped_full: Array
    dropped_too_long: Array
    env_axes: Array
    watched: Array
    settings: Array


class EpisodeCapture(NamedTuple):
    """Capture with its settings bound (made by ``episode_capture``); pure functions.

    Attributes:
      init: ``(env_state, num_envs=None) -> CaptureState``; every env starts an episode at
        `env_state` (batched over N envs when `num_envs` is N).
      step: ``(state, ended, final_env_state, env_state) -> CaptureState``; see
        ``episode_capture``.
      reset: ``(state, env_state, mask=None) -> CaptureState``; the masked envs drop their
        partial episode and start a new one at `env_state`.
      clear: ``(state) -> CaptureState``; empties the store and the drop counters.
      watch: the watched env indices, or None for global ids.
      max_length: the longest episode a row holds.
      max_episodes: store slots (0 when streaming).
      trigger: the jittable function of episode ids that chooses episodes.
      content: what is kept of an env state (None: the whole state).
      stream: the host callable that receives streamed episodes, or None.
      autoreset_mode: the statistics' autoreset mode the capture follows; None: not bound yet
        (a ``fnrec.Recording`` binds its statistics' mode; alone, ``"same_step"``).
      keep: the ranked store (``Ranked``), or None (stored in the order episodes end).
    """

    init: Callable[..., CaptureState]
    step: Callable[..., CaptureState]
    reset: Callable[..., CaptureState]
    clear: Callable[[CaptureState], CaptureState]
    watch: tuple[int, ...] | None
    max_length: int
    max_episodes: int
    trigger: Trigger | OutcomeTrigger
    content: Content | None
    stream: Callable[[Episode], None] | None
    autoreset_mode: AutoresetMode | None = None
    keep: Ranked | None = None

    def following(self, autoreset_mode: AutoresetMode) -> EpisodeCapture:
        """This capture bound to the statistics' `autoreset_mode` (what a Recording does).

        Raises:
          ValueError: the capture was made with another autoreset mode.
        """
        if self.autoreset_mode == autoreset_mode:
            return self
        if self.autoreset_mode is not None:
            raise ValueError(
                f"`capture` was made with autoreset_mode={self.autoreset_mode!r} but the "
                f"statistics use {autoreset_mode!r}: a capture follows the statistics (leave "
                "the capture's autoreset_mode out)"
            )
        return episode_capture(
            self.max_length, max(self.max_episodes, 1), self.watch, self.trigger, self.content,
            self.stream, autoreset_mode, self.keep,
        )  # fmt: skip


def _check_watch(watch: Any) -> tuple[int, ...] | None:
    if watch is None:
        return None
    given = watch
    if isinstance(watch, (int, np.integer)) and not isinstance(watch, bool):
        watch = (watch,)
    try:
        indices = tuple(watch)
    except TypeError:
        indices = None
    if (
        not indices
        or any(
            isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in indices
        )
        or len(set(indices)) != len(indices)
    ):
        raise ValueError(
            "`watch` must be None (global episode ids over the whole batch) or distinct env "
            f"indices >= 0 (an int or a tuple of ints), got {given!r}"
        )
    return tuple(sorted(int(i) for i in indices))  # stored in env-index order within a step


def episode_capture(
    max_length: int,
    max_episodes: int = 16,
    watch: int | tuple[int, ...] | None = (0,),
    trigger: Trigger | OutcomeTrigger | None = None,
    content: Content | None = None,
    stream: Callable[[Episode], None] | None = None,
    autoreset_mode: AutoresetMode | None = None,
    keep: Ranked | None = None,
) -> EpisodeCapture:
    """Chooses episodes by id inside jit and keeps what is needed to show them.

    Args:
      max_length: the longest episode a row holds (its items: ``max_length + 1``);
        longer triggered episodes are dropped and counted. Usually the env's time limit.
      max_episodes: how many finished episodes the store holds; later triggered episodes are
        dropped and counted until ``clear``. Ignored when streaming.
      watch: env indices whose own episodes are counted and chosen (default env 0), or None to
        number every episode of the batch in the order they end (global ids).
      trigger: a jittable function from int32 episode ids to bools (elementwise), e.g.
        ``fnrec.schedules.every(250)``; default ``fnrec.capped_cubic_video_schedule``. Or
        ``on_outcome(choose)``: ``choose`` sees each finished episode (``Finished``: id, env,
        return, length, terminated, truncated, metrics).
      content: what to keep of one env's state, as a jittable function (default: the state
        itself); e.g. ``fnrec.render.cartpole`` keeps frames, rendered in the step. Leaves of a
        batched state without the env axis (MJX's shared contact buffers) reach it unsliced;
        without `content`, every leaf must start with the env axis.
      stream: None to store episodes, or a host callable that receives each chosen episode as a
        ``fnrec.Episode`` (items trimmed to its frames) when it ends (through
        ``jax.debug.callback``).
      autoreset_mode: the statistics' autoreset mode; leave it None inside a
        ``fnrec.Recording`` (it binds its statistics' mode); alone, None means ``"same_step"``.
      keep: None to store triggered episodes in the order they end (later ones are dropped
        once the store is full), or a ranked store, ``best(by)``, ``worst(by)`` or
        ``most_recent()``: the store keeps the ``max_episodes`` top-ranked triggered
        episodes, a better one replacing the lowest-ranked in-graph. With `keep`, `trigger`
        defaults to every episode.

    Returns:
      An ``EpisodeCapture`` whose ``step(state, ended, final_env_state, env_state)`` records one
      step: `ended` is the statistics' ``EpisodeEnded`` for the step, `final_env_state` the env
      state after the step and before any autoreset (the step's frame), `env_state` the state
      the next step starts from (with same-step autoreset, the new episode's first frame where
      an episode ended). With ``"next_step"`` the step after a done is a reset step (its
      `env_state` is the new episode's first frame and no frame is added); with ``"disabled"``
      new episodes start with ``reset``. A state made by a capture with other settings (row
      length, store size, watched envs, autoreset mode) is refused, naming the setting.
    """
    # A row holds max_length + 1 items, addressed by int32 positions.
    max_length = _checks.check_int(
        "max_length", max_length, 1, _checks.MAX_BUFFER_LENGTH - 1, "int32 positions"
    )
    max_episodes = _checks.check_int(
        "max_episodes", max_episodes, 1, _checks.MAX_BUFFER_LENGTH, "int32 rows"
    )
    watch = _check_watch(watch)
    if autoreset_mode is not None:
        autoreset_mode = _checks.autoreset_mode(autoreset_mode)
    mode: AutoresetMode = "same_step" if autoreset_mode is None else autoreset_mode
    if keep is not None:
        if not isinstance(keep, Ranked):
            raise TypeError(
                "`keep` must be None or a ranked store (fnrec.capture.best(by), worst(by), "
                f"most_recent()), got {type(keep).__name__}"
            )
        if stream is not None:
            raise ValueError("`keep` ranks a store: it needs no `stream` (got both)")
        if keep.name == "recent" and watch is not None and len(watch) > 1:
            raise ValueError(
                f"`keep`=most_recent() ranks by episode id, which counts each watched env's "
                f"own episodes: watch one env or use global ids (watch=None), got watch={watch}"
            )
    if trigger is None:
        trigger = capped_cubic_video_schedule if keep is None else _every_episode
    if isinstance(trigger, OutcomeTrigger) and not callable(trigger.choose):
        raise TypeError(f"`trigger.choose` must be a callable, got {type(trigger.choose).__name__}")
    for name, fn in (
        ("trigger", trigger.choose if isinstance(trigger, OutcomeTrigger) else trigger),
        ("content", content),
        ("stream", stream),
    ):
        if fn is not None and not callable(fn):
            raise TypeError(f"`{name}` must be None or a callable, got {type(fn).__name__}")
    if stream is not None:
        max_episodes = 0
    row_length = max_length + 1
    ranked_order = None if keep is None else _ranked_order(keep)
    settings = _Settings(row_length, max_episodes, mode, watch, ranked_order)

    def tracked(tree: Any, shape: tuple[int, ...], name: str) -> Any:
        """The tracked envs' slices of a per-env pytree, with a leading [T] axis."""
        if not shape:
            return jax.tree.map(lambda x: jnp.asarray(x)[None], tree)
        if watch is None:
            return tree
        return jax.tree.map(lambda x: _take(jnp.asarray(x), watch), tree)

    def kept(env_state: Any, shape: tuple[int, ...], name: str) -> Any:
        """What is stored of the tracked envs' states: ``content`` of each, leading [T] axis."""
        return kept_later(env_state, shape, name)()

    def kept_later(env_state: Any, shape: tuple[int, ...], name: str) -> Callable[[], Any]:
        """Takes the tracked envs' slices now; ``content`` of them runs when called.

        Slicing before a ``lax.cond`` and applying ``content`` inside it keeps a renderer off
        the steps that need no frame, while every slice of a sharded batch is taken in one place
        (XLA then moves them across devices together: fewer all-reduces).
        """
        if content is None or not shape:
            _check_leading(name, env_state, shape)
            states = tracked(env_state, shape, name)
            return lambda: states if content is None else jax.vmap(content)(states)
        # Leaves without the env axis (MJX's shared contact buffers) go to `content` as they are.
        leaves, treedef = jax.tree.flatten(env_state)
        per_env = [jnp.shape(x)[:1] == shape for x in leaves]
        if not any(per_env):
            _check_leading(name, env_state, shape)
        leaves = [
            _take(jnp.asarray(x), watch) if mapped and watch is not None else x
            for x, mapped in zip(leaves, per_env, strict=True)
        ]

        def of_leaves(*values: Any) -> Any:
            return content(jax.tree.unflatten(treedef, values))

        axes = [0 if mapped else None for mapped in per_env]
        return lambda: jax.vmap(of_leaves, in_axes=axes)(*leaves)

    env_index = None if watch is None else np.asarray(watch, np.int32)

    def env_indices(shape: tuple[int, ...]) -> Array:
        """The batch index of each tracked env."""
        if not shape:
            return jnp.zeros(1, jnp.int32)
        return jnp.arange(shape[0], dtype=jnp.int32) if env_index is None else env_index

    def init(env_state: Any, num_envs: int | None = None) -> CaptureState:
        _checks.check_num_envs(num_envs)
        shape = () if num_envs is None else (num_envs,)
        if watch is not None:
            limit = 1 if num_envs is None else num_envs
            if max(watch) >= limit:
                raise ValueError(
                    f"`watch` must name envs below num_envs={num_envs} (one env: watch=(0,) or "
                    f"None), got {watch}"
                )
        items = kept(env_state, shape, "env_state")
        num_tracked = 1 if num_envs is None else (num_envs if watch is None else len(watch))
        num_rows = num_tracked + max_episodes
        # Global ids over a batch: rows stay in env order (a sharded env axis splits them).
        copies = watch is None and num_envs is not None

        def rows_of(count: int) -> Any:
            return jax.tree.map(
                lambda x: jnp.zeros((count, row_length, *x.shape[1:]), x.dtype), items
            )

        buffers = rows_of(num_tracked if copies else num_rows)
        rows = jnp.arange(num_tracked, dtype=jnp.int32)
        buffers = _write(buffers, items, rows, jnp.zeros(num_tracked, jnp.int32))
        zeros = jnp.zeros(num_tracked, jnp.int32)
        slots = jnp.zeros(max_episodes, jnp.int32)
        return CaptureState(
            items=buffers,
            stored_items=rows_of(max_episodes if copies else 0),
            row=rows,
            position=jnp.ones(num_tracked, jnp.int32),
            own_episodes=zeros,
            episodes_ended=jnp.zeros((), jnp.int32),
            prev_done=jnp.zeros(num_tracked, jnp.bool_),
            stored=StoredEpisodes(
                row=slots,
                episode_id=slots,
                env=slots,
                length=slots,
                episode_return=jnp.zeros(max_episodes, jnp.float32),
                terminated=jnp.zeros(max_episodes, jnp.bool_),
                truncated=jnp.zeros(max_episodes, jnp.bool_),
                score=jnp.zeros(max_episodes, jnp.float32),
            ),
            num_stored=jnp.zeros((), jnp.int32),
            free_rows=jnp.arange(num_tracked, num_rows, dtype=jnp.int32),
            dropped_full=jnp.zeros((), jnp.int32),
            dropped_too_long=jnp.zeros((), jnp.int32),
            env_axes=jnp.zeros((*shape, 0), jnp.bool_),
            watched=jnp.asarray(watch is not None),
            settings=settings.encoded(),
        )

    def step(
        state: CaptureState,
        ended: EpisodeEnded,
        final_env_state: Any,
        env_state: Any,
    ) -> CaptureState:
        settings.check(state)
        if not isinstance(ended, EpisodeEnded):
            raise TypeError(
                f"`ended` must be the EpisodeEnded of fnrec.stats.step, got {type(ended).__name__}"
            )
        shape = _env_shape(state)
        if tuple(jnp.shape(ended.mask)) != shape:
            raise ValueError(
                f"`ended.mask` must have shape {shape} (the env axes this capture state was "
                f"made for), got shape {tuple(jnp.shape(ended.mask))}"
            )
        mine = EpisodeEnded(
            *(tracked(x, shape, "ended") for x in ended),
            metrics=tracked(ended.metrics, shape, "ended"),
        )
        vmapped = _checks.is_vmapped(ended.mask)
        reset = state.prev_done if mode == "next_step" else jnp.zeros_like(mine.mask)
        # 1. The step's frame, except on a next-step reset step (the env reset instead).
        buffers = _write(
            state.items, kept(final_env_state, shape, "final_env_state"), state.row,
            jnp.where(reset, row_length, state.position),
        )  # fmt: skip
        position = jnp.where(reset, 0, jnp.minimum(state.position + 1, row_length + 1))
        done = mine.mask & ~reset
        # 2. Ended episodes: their ids, the trigger, the commit to the store (or the stream).
        # Ids are int32 and never wrap: past ID_LIMIT episodes are not numbered (their id reads
        # ID_LIMIT), and not offered to the trigger or the store; read_capture warns.
        if watch is None:
            rank = _flags.count_through(ended.mask.reshape(-1)).reshape(shape) - 1
            room = ID_LIMIT - state.episodes_ended
            ids = tracked(
                jnp.where(rank < room, state.episodes_ended + rank, ID_LIMIT), shape, "ids"
            )
            episodes_ended = state.episodes_ended + jnp.minimum(
                jnp.sum(ended.mask, dtype=jnp.int32), room
            )
        else:
            ids, episodes_ended = state.own_episodes, state.episodes_ended
        numbered = ids < ID_LIMIT
        envs = jnp.broadcast_to(env_indices(shape), ids.shape)
        finished = Finished(
            ids, envs, mine.episode_return, mine.length, mine.terminated, mine.truncated,
            mine.metrics,
        )  # fmt: skip
        if isinstance(trigger, OutcomeTrigger):
            wanted = done & numbered & _chosen_by_outcome(trigger.choose, finished)
        else:
            wanted = done & numbered & _triggered(trigger, ids)
        fits = position <= row_length
        chosen = wanted & fits
        episode = StoredEpisodes(
            row=state.row,
            episode_id=ids,
            env=envs,
            length=position - 1,
            episode_return=mine.episode_return,
            terminated=mine.terminated,
            truncated=mine.truncated,
            score=jnp.zeros(ids.shape, jnp.float32) if keep is None else _scored(keep, finished),
        )
        kept_state = (state.stored, state.stored_items, state.row)
        if keep is not None:
            copies = _copies(state)
            sign = 1.0 if keep.largest else -1.0

            def rank_key(score: Array) -> Array:  # larger is better; NaN is the worst
                return jnp.where(jnp.isnan(score), -jnp.inf, sign * score)

            # Only what beats the lowest stored episode now can enter (the bar only rises as
            # the step's episodes go in): once the store is full most steps have no candidate.
            used = jnp.arange(max_episodes, dtype=jnp.int32) < state.num_stored
            bar = jnp.min(jnp.where(used, rank_key(state.stored.score), jnp.inf))
            new_keys = rank_key(episode.score)
            enters = (new_keys >= bar) if keep.later_wins_ties else (new_keys > bar)
            candidates = chosen & ((state.num_stored < max_episodes) | enters)
            count = jnp.sum(candidates, dtype=jnp.int32)

            def commit_ranked() -> tuple:
                """The store after this step's candidates, each replacing the lowest-ranked
                stored one when the store is full and it ranks higher; the tracked envs' rows."""
                through = _flags.count_through(candidates)

                def store_one(k: Array, carry: tuple, present: Array | bool = True) -> tuple:
                    stored, items, rows, num = carry
                    if candidates.shape[0] == 1:  # one tracked env: no gather (as in `commit`)
                        env = jnp.int32(0)
                        values = [x[0] for x in episode]
                    else:
                        env = _index_of_rank(candidates, through, k + 1)
                        values = [jnp.take(x, env[None], mode="clip")[0] for x in episode]
                    used = jnp.arange(max_episodes, dtype=jnp.int32) < num
                    keys = jnp.where(used, rank_key(stored.score), jnp.inf)
                    # The lowest-ranked; of equals, the latest id (ties keep the earlier one),
                    # or the earliest where the later wins ties (ids: f32 scores tie past 2**24).
                    tied = used & (keys == jnp.min(keys))
                    if keep.later_wins_ties:
                        lowest = jnp.argmin(jnp.where(tied, stored.episode_id, ID_LIMIT))
                    else:
                        lowest = jnp.argmax(jnp.where(tied, stored.episode_id, -1))
                    lowest = lowest.astype(jnp.int32)
                    full = num >= max_episodes
                    new_key = rank_key(values[-1])
                    better = new_key > keys[lowest]
                    if keep.later_wins_ties:  # a new episode is later than every stored one
                        better = better | (new_key == keys[lowest])
                    slot = jnp.where(full, jnp.where(better, lowest, max_episodes), num)
                    slot = jnp.where(present, slot, max_episodes)
                    write = slot < max_episodes
                    at = jnp.minimum(slot, max_episodes - 1)
                    if copies:  # the rows stay with their envs: copy the episode out
                        values[0] = state.free_rows[at]
                        items = lax.cond(
                            write, lambda i: _copy_row(i, buffers, env, at), lambda i: i, items
                        )
                    else:  # the env's row goes to the store; the env takes the slot's row
                        freed = jnp.where(full, stored.row[at], state.free_rows[at])
                        rows = rows.at[env].set(jnp.where(write, freed, rows[env]))
                    stored = StoredEpisodes(
                        *(
                            old.at[slot].set(v, mode="drop")
                            for old, v in zip(stored, values, strict=True)
                        )
                    )
                    return stored, items, rows, num + (write & ~full)

                carry = (state.stored, state.stored_items, state.row, state.num_stored)
                if candidates.shape[0] == 1:  # at most one: no loop (see `commit`)
                    stored, items, rows, num = store_one(jnp.int32(0), carry, count > 0)
                else:
                    stored, items, rows, num = lax.fori_loop(0, count, store_one, carry)
                tie = jnp.int32(0)
                if copies:  # as in `commit`: the starts overwrite rows after the copies
                    items, tie = lax.optimization_barrier((items, tie))
                return stored, items, rows, num, tie

            stored, stored_items, row, num_stored, tie = _when(
                vmapped, count > 0, commit_ranked,
                lambda: (*kept_state, state.num_stored, jnp.int32(0)),
            )  # fmt: skip
            dropped_full = state.dropped_full
        elif stream is None:
            count = jnp.sum(chosen, dtype=jnp.int32)
            num_new = jnp.minimum(count, max_episodes - state.num_stored)
            num_stored = state.num_stored + num_new
            dropped_full = state.dropped_full + count - num_new
            copies = _copies(state)

            def commit() -> tuple:
                """The store after this step's chosen episodes, and the tracked envs' rows."""
                through = _flags.count_through(chosen)

                def store_one(k: Array, carry: tuple, slot: Array | None = None) -> tuple:
                    # The k-th chosen episode (env order), gathered: with the env axis sharded
                    # only its values cross devices. A slot past the store is not written.
                    stored, items = carry
                    slot = state.num_stored + k if slot is None else slot
                    env = _index_of_rank(chosen, through, k + 1)
                    if chosen.shape[0] == 1:  # one tracked env: no gather (a batched one
                        # under jax.vmap has no sharding on an Explicit mesh)
                        values = [x[0] for x in episode]
                    else:
                        values = [jnp.take(x, env[None], mode="clip")[0] for x in episode]
                    if copies:  # the rows stay with their envs: copy the episode out
                        values[0] = state.free_rows[slot]
                        items = _copy_row(items, buffers, env, slot)
                    stored = StoredEpisodes(
                        *(
                            old.at[slot].set(v, mode="drop")
                            for old, v in zip(stored, values, strict=True)
                        )
                    )
                    return stored, items

                carry = (state.stored, state.stored_items)
                if chosen.shape[0] == 1 and not copies:
                    # At most one, no loop (under vmap a loop's batched bound would be reduced
                    # over the batch, a collective when it is sharded).
                    slot = jnp.where(num_new > 0, state.num_stored, max_episodes)
                    stored, items = store_one(jnp.int32(0), carry, slot)
                else:
                    stored, items = lax.fori_loop(0, num_new, store_one, carry)
                if copies:
                    # A zero that XLA cannot see through, tied to the copies: the starts add it
                    # to where they write, so they overwrite the rows only after the copies
                    # read them (else XLA copies every row, every step, to keep both).
                    items, tie = lax.optimization_barrier((items, jnp.int32(0)))
                    return stored, items, state.row, tie
                # Hand the rows over; the envs whose episodes were stored take free rows.
                slot = state.num_stored + through - 1
                taken = chosen & (slot < max_episodes)
                new_row = state.free_rows[jnp.clip(slot, 0, max_episodes - 1)]
                return stored, items, jnp.where(taken, new_row, state.row), jnp.int32(0)

            stored, stored_items, row, tie = _when(
                vmapped, num_new > 0, commit, lambda: (*kept_state, jnp.int32(0))
            )
        else:
            if vmapped:
                raise ValueError(
                    "`stream` needs one capture over the whole batch (num_envs=N): under "
                    "jax.vmap each env's capture cannot tell which env it is, and streamed "
                    "episodes would carry env 0; store them instead (no `stream`) and export"
                )
            _send(stream, buffers, episode, chosen, watch is not None and len(watch) > 1)
            stored, stored_items, row = kept_state
            num_stored, dropped_full, tie = state.num_stored, state.dropped_full, 0

        # 3. New episodes: same-step starts them now at `env_state`; next-step on a reset step.
        if mode == "same_step":
            starts = done
        elif mode == "next_step":
            starts = reset
        else:
            starts = jnp.zeros_like(done)

        first = kept_later(env_state, shape, "env_state")

        start_at = jnp.where(starts, 0, row_length) + tie  # past the row (dropped): no start

        def start() -> Any:
            return _write(buffers, first(), row, start_at)

        buffers = _when(vmapped, jnp.any(starts), start, lambda: buffers)
        position = jnp.where(starts, 1, jnp.where(done, 0, position))
        return state._replace(
            items=buffers,
            stored_items=stored_items,
            row=row,
            position=position,
            own_episodes=state.own_episodes + (done & numbered),
            episodes_ended=episodes_ended,
            prev_done=done,
            stored=stored,
            num_stored=num_stored,
            free_rows=state.free_rows,
            dropped_full=dropped_full,
            dropped_too_long=state.dropped_too_long + jnp.sum(wanted & ~fits, dtype=jnp.int32),
        )

    def reset(state: CaptureState, env_state: Any, mask: Any = None) -> CaptureState:
        settings.check(state)
        shape = _env_shape(state)
        if mask is None:
            starts = jnp.ones(state.row.shape, jnp.bool_)
        else:
            starts = tracked(_checks.flag_array("mask", mask, shape), shape, "mask")
        buffers = _write(
            state.items, kept(env_state, shape, "env_state"), state.row,
            jnp.where(starts, 0, row_length),
        )  # fmt: skip
        return state._replace(
            items=buffers,
            position=jnp.where(starts, 1, state.position),
            prev_done=state.prev_done & ~starts,
        )

    def clear(state: CaptureState) -> CaptureState:
        settings.check(state)
        num_rows = sum(jax.tree.leaves(x)[0].shape[0] for x in (state.items, state.stored_items))
        used = jnp.zeros(num_rows, jnp.bool_).at[state.row].set(True)
        free = jnp.argsort(used, stable=True)[:max_episodes].astype(jnp.int32)
        zero = jnp.zeros((), jnp.int32)
        return state._replace(
            num_stored=zero, free_rows=free, dropped_full=zero, dropped_too_long=zero
        )

    return EpisodeCapture(
        init=auto_within(init),
        step=auto_within(step),
        reset=auto_within(reset),
        clear=auto_within(clear),
        watch=watch,
        max_length=max_length,
        max_episodes=max_episodes,
        trigger=trigger,
        content=content,
        stream=stream,
        autoreset_mode=autoreset_mode,
        keep=keep,
    )


class _Settings(NamedTuple):
    """A capture's settings, kept in its state as the shape of an empty array (``settings``):
    static under jit, vmap, sharding and checkpoints, and free."""

    row_length: int
    max_episodes: int
    autoreset_mode: AutoresetMode
    watch: tuple[int, ...] | None
    ranked: str | None = None  # a ranked store's order (_RANKED_ORDERS); None: in order

    def encoded(self) -> Array:
        watch = () if self.watch is None else tuple(i + 1 for i in self.watch)
        mode = _checks.AUTORESET_MODES.index(self.autoreset_mode) + 1
        ranked = _RANKED_ORDERS.index(self.ranked) + 1
        shape = (
            0, self.row_length, self.max_episodes + 1, mode, ranked, int(self.watch is None),
            *watch,
        )  # fmt: skip
        return jnp.zeros(shape, jnp.bool_)

    def check(self, state: Any) -> None:
        """Raises unless `state` was made by a capture with these settings, naming the first
        setting that differs."""
        _check_state(state)
        made = decoded_settings(state)
        for name, want, got in zip(self._fields, self, made, strict=True):
            if want != got:
                raise ValueError(
                    f"`state` was made by a capture with other settings: {_SETTING_NAMES[name]} "
                    f"{_shown(name, got)}, this capture has {_shown(name, want)} (step, clear and "
                    "reset a capture state with the capture that made it)"
                )


_SETTING_NAMES = {
    "row_length": "max_length",
    "max_episodes": "max_episodes",
    "autoreset_mode": "autoreset_mode",
    "watch": "watch",
    "ranked": "keep (a ranked store's order)",
}
ID_LIMIT = 2**31 - 1  # ids are int32: episodes from this one on are not numbered (never wrap)
# "latest": the largest scores, equal scores ranked by the larger id (Ranked.later_wins_ties)
_RANKED_ORDERS = (None, "largest", "smallest", "latest")


def _ranked_order(keep: Ranked) -> str:
    if keep.later_wins_ties:
        return "latest" if keep.largest else "smallest"
    return "largest" if keep.largest else "smallest"


def _shown(name: str, value: Any) -> Any:
    return value - 1 if name == "row_length" else repr(value)


def decoded_settings(state: CaptureState) -> _Settings:
    """The settings a capture state was made with (read off its ``settings`` field's shape)."""
    shape = tuple(state.settings.shape)
    shape = shape[shape.index(0) + 1 :]  # past any batch axes a vmap added
    row_length, max_episodes, mode, ranked, global_ids, *watch = shape
    return _Settings(
        row_length, max_episodes - 1, _checks.AUTORESET_MODES[mode - 1],
        None if global_ids else tuple(i - 1 for i in watch), _RANKED_ORDERS[ranked - 1],
    )  # fmt: skip


def read_settings(state: CaptureState) -> _Settings:
    """The settings of a capture state about to be read, checked against its own buffers.

    A state is read without its capture, so what it says of itself must hold: its rows hold
    ``max_length + 1`` items, its store ``max_episodes`` slots, and it tracks the watched envs.

    Raises:
      TypeError: `state` is not a CaptureState.
      ValueError: a setting disagrees with the buffers (a state assembled from parts of
        different captures), naming the setting.
    """
    _check_state(state)
    made = decoded_settings(state)
    batch = len(state.num_stored.shape)
    leaves = jax.tree.leaves(state.items)
    found = {
        "max_length": (made.row_length - 1, leaves[0].shape[batch + 1] - 1 if leaves else None),
        "max_episodes": (made.max_episodes, state.stored.row.shape[batch]),
        "watch": (
            None if made.watch is None else len(made.watch),
            None if made.watch is None else state.row.shape[batch],
        ),
    }
    for name, (said, held) in found.items():
        if held is not None and said != held:
            raise ValueError(
                f"`state` does not match its own settings: {name} says {said}, but its buffers "
                f"hold {held} (a capture state must come whole from one capture)"
            )
    return made


def _when(
    vmapped: bool, pred: Array, true_fn: Callable[[], Any], false_fn: Callable[[], Any]
) -> Any:
    """``lax.cond(pred, true_fn, false_fn)``, skipping `true_fn`'s writes on most steps; under
    ``jax.vmap`` just ``true_fn()``: vmap turns a cond into a select of both branches' results,
    which would copy every env's whole buffer each step, while the writes alone are a scatter."""
    return true_fn() if vmapped else lax.cond(pred, true_fn, false_fn)


def _take(x: Array, indices: tuple[int, ...]) -> Array:
    """``x[list(indices)]`` as a gather, not a static slice: with the env axis sharded, XLA
    moves a gathered row across devices once (a static slice of a sharded axis was all-reduced
    again at each of its uses)."""
    return jnp.take(x, jnp.asarray(indices, jnp.int32), axis=0, mode="clip")


def _check_state(state: Any) -> None:
    if not isinstance(state, CaptureState):
        raise TypeError(
            f"`state` must be a CaptureState from episode_capture(...).init, got "
            f"{type(state).__name__}"
        )


def _check_leading(name: str, tree: Any, shape: tuple[int, ...]) -> None:
    """Raises unless every leaf of `tree` starts with the env axes `shape`."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        raise ValueError(f"`{name}` must be a pytree with at least one array, got {tree!r}")
    for leaf in leaves:
        leaf_shape = tuple(jnp.shape(leaf))
        if leaf_shape[: len(shape)] != shape:
            raise ValueError(
                f"`{name}` must have leaves that start with the env axes {shape} (one slice per "
                f"environment), got a leaf of shape {leaf_shape}"
            )


def _env_shape(state: CaptureState) -> tuple[int, ...]:
    """The env axes the state was made for: () for one env, (N,) for a batch."""
    return tuple(state.env_axes.shape[:-1])


def _index_of_rank(mask: Array, through: Array, rank: Array) -> Array:
    """The index of the set flag of (1-based) `rank`, given ``through = count_through(mask)``.

    A masked sum over the env axis (all-reduced when it is split), where a search through the
    prefix counts would all-gather them; it runs only on steps that store or stream.
    """
    index = jnp.arange(mask.shape[0], dtype=jnp.int32)
    return jnp.sum(jnp.where(mask & (through == rank), index, 0), dtype=jnp.int32)


def _copies(state: CaptureState) -> bool:
    """True when the rows stay with their envs and stored episodes are copied out."""
    return jax.tree.leaves(state.stored_items)[0].shape[0] > 0


def _copy_row(stored_items: Any, buffers: Any, env: Array, slot: Array) -> Any:
    """Copies env `env`'s row of `buffers` into store row `slot`: gathered, so that with the env
    axis sharded only that row crosses devices (a dynamic slice would gather every row)."""

    def put(rows: Array, buffer: Array) -> Array:
        row = jnp.take(buffer, env[None], axis=0, mode="clip")
        return lax.dynamic_update_slice_in_dim(rows, row, slot, axis=0)

    return jax.tree.map(put, stored_items, buffers)


def _write(buffers: Any, items: Any, rows: Array, positions: Array) -> Any:
    """Writes each tracked env's item at (row, position); a position past the row is dropped.

    With one row per tracked env (row t is env t's) the write is batched over rows, which a
    sharded env axis splits; indexed rows would gather every env's item onto each device.
    """

    def put(path: Any, buffer: Array, item: Array) -> Array:
        item = jnp.asarray(item)
        if item.dtype != buffer.dtype or item.shape[1:] != buffer.shape[2:]:
            raise TypeError(
                f"the captured item {jax.tree_util.keystr(path) or '<root>'} must keep the dtype "
                f"and shape it had at init ({buffer.dtype}{list(buffer.shape[2:])}), got "
                f"{item.dtype}{list(item.shape[1:])}: make the env state (or `content` of it) "
                "keep its dtypes, rather than have it cast"
            )
        if buffer.shape[0] == rows.shape[0]:
            return jax.vmap(lambda b, x, p: b.at[p].set(x, mode="drop"))(buffer, item, positions)
        return buffer.at[rows, positions].set(item, mode="drop")

    try:
        return jax.tree_util.tree_map_with_path(put, buffers, items)
    except ValueError as error:  # a different pytree structure than at init
        raise ValueError(
            "the env state (or `content` of it) must keep the pytree structure it had at "
            f"init: {error}"
        ) from None


_TRIGGER_HOW = (
    "a trigger receives an int32 ARRAY of episode ids (inside jit) and returns a bool array of "
    "the same shape: write it with array operations, e.g. `lambda ids: (ids % 250 == 0) & "
    "(ids > 0)` or `lambda ids: jnp.isin(ids, jnp.array([3, 7]))` (not `and`, `if` or `in {...}`)"
)


def _per_env(
    fn: Callable[[Any], Any],
    argument: Any,
    shape: tuple[int, ...],
    kind: tuple[str, Callable[..., Array]],
    failed: str,
    wrong: str,
) -> Array:
    """`fn(argument)` checked as one value per tracked env; a clear error otherwise.

    Args:
      fn: the user's jittable function (a trigger, an outcome choice, a ranking score).
      argument: what it is given (episode ids, or a ``Finished``).
      shape: the expected shape ([T]).
      kind: ``(name, check)``, the value's name in messages and ``_checks.flag_array`` or
        ``_checks.reward_array``.
      failed: what to say when `fn` itself fails (Python control flow on traced arrays).
      wrong: what to say when it gives something of another shape or dtype.
    """
    name, check = kind
    try:
        out = fn(argument)
    except (TypeError, jax.errors.ConcretizationTypeError) as error:
        raise TypeError(
            f"{failed} ({type(error).__name__}: {str(error).splitlines()[0]})"
        ) from None
    try:
        return check(name, out, shape)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{wrong}: {error}") from None


def _triggered(trigger: Trigger, ids: Array) -> Array:
    """`trigger(ids)` as bool[T], with a clear error for a trigger that gives something else."""
    return _per_env(
        trigger, ids, ids.shape, ("trigger(episode_id)", _checks.flag_array),
        f"`trigger` failed on an array of episode ids: {_TRIGGER_HOW}",
        "`trigger` must map int32 episode ids elementwise to bools",
    )  # fmt: skip


def _every_episode(ids: Array) -> Array:
    """The trigger of a ranked store by default: every episode is a candidate."""
    return jnp.ones(ids.shape, jnp.bool_)


def _scored(keep: Ranked, finished: Finished) -> Array:
    """`keep.score(finished)` as f32[T], with a clear error for what gives something else."""
    return _per_env(
        keep.score, finished, finished.episode_id.shape,
        (f"the ranked store's score ({keep.name})", _checks.reward_array),
        "`keep` failed on the finished episodes: it ranks a fnrec.capture.Finished of ARRAYS "
        "(one entry per tracked env) by one number each",
        "`keep` must rank by one number per tracked env",
    )  # fmt: skip


def _chosen_by_outcome(choose: Callable[[Finished], Any], finished: Finished) -> Array:
    """`choose(finished)` as bool[T], with a clear error for what gives something else."""
    return _per_env(
        choose, finished, finished.episode_id.shape, ("trigger(finished)", _checks.flag_array),
        "`trigger` (on_outcome) failed on the finished episodes: it receives a "
        "fnrec.capture.Finished of ARRAYS (one entry per tracked env) and returns a bool "
        "array, e.g. `lambda e: e.terminated & (e.episode_return < 10)` (not `and`, `if`)",
        "`trigger` (on_outcome) must give one bool per tracked env",
    )  # fmt: skip


def _send(
    stream: Callable[[Episode], None],
    buffers: Any,
    episode: StoredEpisodes,
    chosen: Array,
    ids_per_env: bool,
) -> None:
    """Streams the chosen episodes to the host, one callback each (none on most steps).

    Each call carries a validity flag: under ``jax.vmap`` JAX runs the loop for every instance
    until the longest is done, and the host drops the calls of instances that had nothing.
    """
    through = _flags.count_through(chosen)
    count = jnp.sum(chosen, dtype=jnp.int32)

    def deliver(valid: Any, items: Any, *fields: Any) -> None:
        if bool(valid):
            _checks.delivered(stream, received_episode(items, *fields, ids_per_env))

    def send_one(k: Array, carry: None) -> None:
        # Gathers, not dynamic slices: a sharded env axis then moves one env's values only.
        index = _index_of_rank(chosen, through, k + 1)[None]
        fields = jax.tree.map(lambda x: jnp.take(x, index, mode="clip")[0], episode)
        items = jax.tree.map(lambda b: jnp.take(b, fields.row[None], 0, mode="clip")[0], buffers)
        jax.debug.callback(
            deliver, k < count, items, fields.episode_id, fields.env, fields.length,
            fields.episode_return, fields.terminated, fields.truncated,
        )  # fmt: skip
        return carry

    lax.fori_loop(0, count, send_one, None)
