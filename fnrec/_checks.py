"""Trace-time argument checks shared by the pure modules.

Every error names the argument, what was expected and what was received. Shapes and dtypes are
static under ``jax.jit``, so these checks fire while tracing, before anything runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

AUTORESET_MODES: tuple[str, ...] = ("same_step", "next_step", "disabled")
# gymnasium.vector.AutoresetMode's values -> fnrec's modes (its members are read by value).
_GYMNASIUM_MODES = {"SameStep": "same_step", "NextStep": "next_step", "Disabled": "disabled"}
MAX_BUFFER_LENGTH = 2**31 - 1  # ring indices and env indices are int32


def _as_array(name: str, value: ArrayLike) -> Array:
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"`{name}` must be an array or number, got {type(value).__name__}: {value!r}"
        )
    try:
        return jnp.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be an array or number, got {type(value).__name__}: {value!r}"
        ) from error


def _check_shape(name: str, array: Array, shape: tuple[int, ...]) -> Array:
    """Returns `array` broadcast to `shape`; only a scalar (one value for all envs) broadcasts."""
    if array.shape == shape:
        return array
    if array.shape == ():
        return jnp.broadcast_to(array, shape)
    hint = ""
    if shape == () and array.ndim == 1:
        hint = (
            " (a batched env under statistics for one env? make them with num_envs="
            f"{array.shape[0]}, or jax.vmap the step)"
        )
    raise ValueError(
        f"`{name}` must have shape {shape} (one value per environment of the statistics, "
        f"or a scalar for all), got shape {array.shape}{hint}"
    )


def _is_real(dtype: np.dtype) -> bool:
    return (
        dtype == jnp.bool_
        or jnp.issubdtype(dtype, jnp.integer)
        or jnp.issubdtype(dtype, jnp.floating)
    )


def _host_array(name: str, value: ArrayLike, expected: str) -> np.ndarray | None:
    """`value` as numpy when it is host data (numpy, Python numbers, lists of them), else None.

    Host values are converted here, before JAX sees them: with ``jax_enable_x64`` off JAX would
    wrap an int64 of 2**40 to 0, and a Python int of 2**32 raises a bare OverflowError.
    """
    if isinstance(value, (jax.Array, jax.core.Tracer, str, bytes)):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if array.dtype == object:  # Python ints beyond int64 (or anything else: left to JAX)
        if not all(isinstance(x, (bool, int, float, np.number)) for x in array.reshape(-1)):
            return None
        array = array.astype(np.float64)
    if not _is_real(array.dtype):
        raise TypeError(f"`{name}` must be {expected}, got dtype {array.dtype}")
    return array


def _real_array(name: str, value: ArrayLike, shape: tuple[int, ...], expected: str) -> Array:
    """`value` as an array of `shape` with a bool, integer or floating dtype, else a clear error."""
    array = _as_array(name, value)
    if not _is_real(array.dtype):
        raise TypeError(f"`{name}` must be {expected}, got dtype {array.dtype}")
    return _check_shape(name, array, shape)


def reward_array(name: str, value: ArrayLike, shape: tuple[int, ...]) -> Array:
    """A real-valued per-environment input as float32 (64-bit host values converted exactly).

    Args:
      name: the argument's name, for errors.
      value: the input (bool, integer or floating).
      shape: the expected shape.

    Returns:
      A float32 array of `shape`.
    """
    expected = "a real number (float, int or bool)"
    host = _host_array(name, value, expected)
    if host is not None:
        with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as in JAX
            value = host.astype(np.float32)
    return _real_array(name, value, shape, expected).astype(jnp.float32)


def flag_array(name: str, value: ArrayLike, shape: tuple[int, ...]) -> Array:
    """A per-environment flag as bool; numbers are read as ``value != 0`` (brax uses floats).

    Args:
      name: the argument's name, for errors.
      value: the input (bool, integer or floating; 64-bit host values are read exactly).
      shape: the expected shape.

    Returns:
      A bool array of `shape`.
    """
    expected = "a boolean flag (bool, or an int/float read as != 0)"
    host = _host_array(name, value, expected)
    if host is not None:
        value = host if host.dtype == np.bool_ else host != 0
    array = _real_array(name, value, shape, expected)
    return array if array.dtype == jnp.bool_ else _nonzero(array)


def _nonzero(array: Array) -> Array:
    """``array != 0``, exact for subnormal floats too (XLA's CPU compare flushes them to 0)."""
    if not jnp.issubdtype(array.dtype, jnp.floating):
        return array != 0
    bits = {2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}[array.dtype.itemsize]
    magnitude = jax.lax.bitcast_convert_type(array, bits) & (
        (1 << (8 * array.dtype.itemsize - 1)) - 1
    )
    return magnitude != 0


def check_int(
    name: str, value: object, minimum: int, maximum: int | None = None, why: str = "",
    none: str = "",
) -> int | None:  # fmt: skip
    """`value` as a Python int in [minimum, maximum]; TypeError for a non-int, ValueError for
    one out of range.

    Args:
      name: the argument, for the message.
      value: what was given (numpy integers accepted, bools refused).
      minimum, maximum: the range (maximum None: unbounded).
      why: why the maximum, for the message.
      none: what None means, if None is accepted (empty: refused).

    Returns:
      The int, or None.
    """
    if value is None and none:
        return None
    expected = f"an int >= {minimum}" if maximum is None else f"an int from {minimum} to {maximum}"
    expected += f" ({why})" if why else ""
    expected = f"None ({none}) or {expected}" if none else expected
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be {expected}, got {type(value).__name__}: {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"`{name}` must be {expected}, got {value!r}")
    return int(value)


def check_num_envs(num_envs: int | None) -> None:
    """Raises unless `num_envs` is None or an int from 1 to MAX_BUFFER_LENGTH."""
    check_int(
        "num_envs", num_envs, 1, MAX_BUFFER_LENGTH, "env indices are int32", "one environment"
    )


def check_buffer_length(buffer_length: int) -> None:
    """Raises unless `buffer_length` is an int in 1..MAX_BUFFER_LENGTH."""
    check_int("buffer_length", buffer_length, 1, MAX_BUFFER_LENGTH, "the int32 ring index")


def check_concrete(function: str, name: str, value: object, inside: str) -> None:
    """Raises TypeError if `value` holds a tracer: `function` reads values on the host.

    Args:
      function: the public host function, for the message.
      name: the argument.
      value: what was given (a pytree).
      inside: what to use inside jit instead.
    """
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(value)):
        raise TypeError(
            f"{function} is host side (it reads values off the device), but `{name}` is traced "
            f"(inside jax.jit, vmap or scan): call it on the result, outside; inside, use "
            f"{inside}"
        )


def check_instance(function: str, name: str, value: object, expected: type) -> None:
    """Raises TypeError unless `value` is an `expected`; names an adapter state's field to pass.

    Args:
      function: the public function, for the message (``fnrec.stats.queues``).
      name: the argument.
      value: what was given.
      expected: the class it must be.
    """
    if isinstance(value, expected):
        return
    hint = ""
    fields = getattr(type(value), "_fields", ())
    inner = [f for f in fields if isinstance(getattr(value, f, None), expected)]
    if inner:  # an adapter's Recorded state, or a StepResult
        hint = f"; pass its `.{inner[0]}`"
    raise TypeError(
        f"{function}: `{name}` must be an {expected.__name__}, got {type(value).__name__}{hint}"
    )


def check_max_episode_steps(max_episode_steps: int | None) -> None:
    """Raises unless `max_episode_steps` is None (no time limit) or an int >= 1."""
    check_int(
        "max_episode_steps", max_episode_steps, 1, MAX_BUFFER_LENGTH - 1,
        "step counters are int32", "no time limit",
    )  # fmt: skip


def autoreset_mode(mode: object, argument: str = "autoreset_mode") -> str:
    """The one autoreset-mode type: fnrec's string, from that string or Gymnasium's enum.

    Args:
      mode: ``"same_step"``, ``"next_step"`` or ``"disabled"``, or Gymnasium's
        ``gymnasium.vector.AutoresetMode`` member of the same meaning (read by its value, so
        Gymnasium is not imported here).
      argument: the argument's name, for the error.

    Returns:
      The mode as fnrec's string.

    Raises:
      ValueError: any other value, naming `argument`.
    """
    if isinstance(mode, str) and mode in AUTORESET_MODES:
        return mode
    from_gymnasium = _GYMNASIUM_MODES.get(getattr(mode, "value", None))
    if from_gymnasium is not None and type(mode).__name__ == "AutoresetMode":
        return from_gymnasium
    raise ValueError(
        f"`{argument}` must be one of {AUTORESET_MODES} (or Gymnasium's AutoresetMode), got "
        f"{mode!r}"
    )


def gymnasium_autoreset_value(mode: str) -> str:
    """The value of Gymnasium's ``AutoresetMode`` member for fnrec's `mode` (host metadata)."""
    return next(value for value, ours in _GYMNASIUM_MODES.items() if ours == mode)


def delivered(stream: Callable[[Any], None], value: Any) -> None:
    """Hands `value` to a user's ``stream=`` callable from a host callback, where an exception
    would kill the whole jitted run (``CpuCallback error``): a failure is reported as a
    RuntimeWarning naming the stream and the error, and the run goes on."""
    try:
        stream(value)
    except Exception as error:  # reported; the training run must go on
        warnings.warn(
            f"fnrec: the stream {stream!r} raised {type(error).__name__}: {error}; the run goes "
            f"on, this {type(value).__name__} was not delivered",
            RuntimeWarning,
            stacklevel=2,
        )


def is_vmapped(value: object) -> bool:
    """Whether `value` is being traced by ``jax.vmap`` here (not through an inner ``jax.jit``)."""
    return type(value).__name__ == "BatchTracer"


def _describe(value: object) -> str:
    if isinstance(value, (jax.Array, np.ndarray)):
        return f"an array of dtype {value.dtype} and shape {tuple(value.shape)}"
    text = repr(value)
    return f"{type(value).__name__}: {text if len(text) <= 60 else text[:57] + '...'}"


def check_key(name: str, key: object) -> None:
    """Raises a TypeError naming `name` unless `key` is a PRNG key (or a batch of them).

    Typed keys (``jax.random.key``) and raw key data (``jax.random.PRNGKey``'s uint32) pass;
    checked on shapes and dtypes only, so it adds nothing to a traced program.
    """
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return
    if isinstance(key, (jax.Array, np.ndarray)):
        try:
            jax.eval_shape(jax.random.wrap_key_data, jax.ShapeDtypeStruct(key.shape, key.dtype))
            return
        except (TypeError, ValueError):
            pass
    raise TypeError(
        f"`{name}` must be a PRNG key (jax.random.key(seed), or the uint32 data of "
        f"jax.random.PRNGKey(seed)), got {_describe(key)}"
    )


def check_batch_driver(
    kind: str, num_envs: int | None, key: ArrayLike | None, leaves: list,
    key_name: str = "key", key_optional: bool = False, batched_keys: bool = False,
) -> None:  # fmt: skip
    """Checks the PRNG key, and raises for the two layout mix-ups of an adapter that batches
    its envs itself (num_envs=N).

    Args:
      kind: the adapter, for the message.
      num_envs: its batch size (None: unbatched, no layout to check).
      key: the PRNG key it was given.
      leaves: leaves of its state or action, to detect an outer ``jax.vmap``.
      key_name: the key argument's name, for the message.
      key_optional: whether None is accepted (an env that does not use the key).
      batched_keys: whether a batch of exactly `num_envs` keys is accepted too (the reset of an
        env its library batched: brax's trainers reset with one key per env).
    """
    if key is not None or not key_optional:
        check_key(key_name, key)
    if num_envs is None:
        return
    if any(is_vmapped(x) for x in [key, *leaves]):
        raise ValueError(
            f"{kind} with num_envs={num_envs} batches its envs itself: do not jax.vmap it (that "
            f"would step num_envs x {num_envs} envs); vmap an adapter made with num_envs=None, "
            "or drop the jax.vmap"
        )
    if key is None:
        return
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    if batched_keys and key.ndim == (1 if typed else 2) and key.shape[0] == num_envs:
        return
    if key.ndim > (0 if typed else 1):
        raise ValueError(
            f"`{key_name}` must be ONE PRNG key for {kind} with num_envs={num_envs} (it splits it "
            f"per env), got a batch of keys of shape {key.shape}: pass one key, or jax.vmap an "
            "adapter made with num_envs=None"
        )


def action_array(name: str, value: object) -> object:
    """An array-space action with a real dtype; host values (lists too) converted to numpy.

    Host integers must fit JAX's integer type: with ``jax_enable_x64`` off, JAX would wrap an
    int64 of 2**40 to 0.
    """
    if isinstance(value, (jax.Array, str, bytes)) or value is None:
        array = value
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError, OverflowError):
            array = None
        if array is not None and array.dtype == object:  # Python ints beyond int64, or junk
            raise TypeError(f"`{name}` must be an array of numbers, got {_describe(value)}")
    if array is None or isinstance(array, (str, bytes)):
        raise TypeError(f"`{name}` must be an array or number, got {_describe(value)}")
    if not _is_real(array.dtype):
        raise TypeError(f"`{name}` must have a bool, integer or float dtype, got {array.dtype}")
    if isinstance(array, np.ndarray) and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(jax.dtypes.canonicalize_dtype(array.dtype))
        if array.min() < info.min or array.max() > info.max:
            raise ValueError(
                f"`{name}` must fit {info.dtype} (jax_enable_x64 is off), got values from "
                f"{array.min()} to {array.max()}"
            )
    return array


def host_action(name: str, value: object) -> object:
    """`value` through ``action_array`` when it is host numbers (numpy, Python numbers, lists or
    tuples of numbers); device arrays and pytrees of arrays (composite actions) unchanged."""
    numbers = (bool, int, float, complex, np.generic)
    if isinstance(value, (np.ndarray, *numbers)) or (
        isinstance(value, (list, tuple))
        and all(isinstance(x, numbers) for x in jax.tree.leaves(value))
    ):
        return action_array(name, value)
    return value


def check_leading_axis(name: str, value: ArrayLike, num_envs: int | None) -> None:
    """Raises unless `value` (an action) has the batch axis [num_envs] first (when batched)."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"`{name}` must be an array or number, got {type(value).__name__}")
    if num_envs is None:
        return
    shape = tuple(jnp.shape(value))
    if shape[:1] != (num_envs,):
        raise ValueError(
            f"`{name}` must have one entry per env, shape ({num_envs}, ...) for num_envs="
            f"{num_envs}, got shape {shape}"
        )
