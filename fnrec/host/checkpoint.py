"""Checkpoint and resume: recording states saved to disk and restored exactly (host side).

``save(path, state)`` writes any pytree of arrays: statistics, capture and history states, a
tuple or dict of them, a recorder's whole ``Recorded`` state (env state included), PRNG keys.
``restore(path, like=template)`` reads it back into the structure of `template` (a state made
with the same settings, or ``jax.eval_shape`` of one) and checks every leaf's path, shape and
dtype first: a checkpoint from another ``buffer_length``, capture capacity, history capacity or
batch size raises ``CheckpointMismatch`` naming the leaf, never a silent reshape. Restored
arrays take the template's sharding, so a sharded run resumes sharded.

A run resumed from a checkpoint continues bit for bit as the uninterrupted run: every field is
saved, the Kahan compensations, ring heads and 64-bit counters included.

Two formats:

- ``"npz"`` (default): one ``numpy`` ``.npz`` file holding the leaves and a JSON header with
  the format version and each leaf's path, shape and dtype. Written to a temporary name in the
  same folder, then renamed: a crash leaves the previous checkpoint intact. Sharded arrays are
  gathered to this process (single-process runs).
- ``"orbax"`` (``pip install 'fnrec[orbax]'``): an orbax-checkpoint directory (the same header
  as JSON, the leaves written shard by shard, also from several processes). orbax writes to a
  temporary directory and renames it when complete; an existing directory is not overwritten.

Example::

    >>> import os, tempfile, jax, fnrec
    >>> statistics = fnrec.stats.episode_statistics(buffer_length=10)
    >>> stats, _ = statistics.step(statistics.init(2), 1.0, [True, False], False)
    >>> path = os.path.join(tempfile.mkdtemp(), "stats.npz")
    >>> _ = fnrec.checkpoint.save(path, stats)
    >>> restored = fnrec.checkpoint.restore(path, like=statistics.init(2))
    >>> fnrec.stats.queues(restored)["return_queue"].tolist()
    [1.0]
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from fnrec._optional import require
from fnrec.host.atomic import write_atomically

__all__ = ["FORMAT_VERSION", "CheckpointDamaged", "CheckpointMismatch", "restore", "save"]

FORMAT_VERSION = 1
_FORMAT = "fnrec.checkpoint"
_HEADER = "fnrec_checkpoint"  # the npz entry (and orbax item) holding the JSON header
Format = Literal["npz", "orbax"]

# A leaf's field name -> the setting that fixes its shape (for the mismatch message).
_SETTINGS: dict[str, str] = {
    "return_queue": "the statistics' buffer_length",
    "length_queue": "the statistics' buffer_length",
    "terminated_queue": "the statistics' buffer_length",
    "end_queue": "the statistics' buffer_length",
    "items": "the capture's max_episodes, max_length or content",
    "stored_items": "the capture's max_episodes, max_length or content",
    "settings": "the capture's settings (max_length, max_episodes, autoreset_mode, watch)",
    "free_rows": "the capture's max_episodes",
    "stored": "the capture's max_episodes",
    "env_axes": "num_envs",
    "running_return": "num_envs",
    "running_length": "num_envs",
    "prev_done": "num_envs",
    "steps": "num_envs",
}


class CheckpointMismatch(ValueError):
    """A checkpoint does not fit the ``like`` template (structure, shape or dtype)."""


class CheckpointDamaged(ValueError):
    """A checkpoint file that cannot be read whole: truncated, corrupted, or edited by hand."""


class _Leaf(NamedTuple):
    """How one leaf is described in the header."""

    path: str
    shape: tuple[int, ...]
    dtype: str
    key_impl: str | None  # the PRNG implementation of a typed key array (its data is saved)


def save(path: str | os.PathLike[str], state: Any, format: Format = "npz") -> Path:
    """Host side: writes `state` (any pytree of arrays) to `path`, atomically.

    Args:
      path: the file (``"npz"``: written under exactly this name, an existing file replaced)
        or the directory (``"orbax"``: must not exist yet).
      state: statistics, capture or history states, a tuple/dict of them, a recorder's
        ``Recorded`` state; concrete arrays (call it outside jit).
      format: ``"npz"`` or ``"orbax"`` (needs the ``orbax`` extra).

    Returns:
      The path written.
    """
    path = Path(path)
    leaves = _flatten("state", state)
    header = {
        "format": _FORMAT,
        "version": FORMAT_VERSION,
        "leaves": [_describe(name, x)._asdict() for name, x in leaves],
    }
    # Empty leaves (a capture's env_axes) are described in the header only: orbax refuses them.
    arrays = {f"leaf_{i}": _data(x) for i, (_, x) in enumerate(leaves) if np.size(x)}
    if format == "npz":
        host = {name: _host(name, x) for name, x in arrays.items()}
        host[_HEADER] = np.asarray(json.dumps(header))
        write_atomically(path, lambda file: np.savez(file, **host))
    elif format == "orbax":
        ocp = _orbax()
        path = path.absolute()
        if path.exists():
            raise FileExistsError(
                f"fnrec.checkpoint.save: `path` {str(path)!r} exists; orbax checkpoints are not "
                "overwritten: save to a new directory (one per step) or delete it first"
            )
        with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as checkpointer:
            checkpointer.save(
                path,
                ocp.args.Composite(
                    **{_HEADER: ocp.args.JsonSave(header), "arrays": ocp.args.StandardSave(arrays)}
                ),
            )
    else:
        raise ValueError(f"`format` must be 'npz' or 'orbax', got {format!r}")
    return path


def restore(path: str | os.PathLike[str], *, like: Any) -> Any:
    """Host side: reads a checkpoint into the structure of `like`, after checking every leaf.

    Args:
      path: a file written by ``save(..., format="npz")`` or a directory written with
        ``format="orbax"`` (told apart by what is there).
      like: a state with the structure, shapes and dtypes expected (made with the same settings;
        ``jax.eval_shape`` of one is enough). Restored jax arrays take its leaves' shardings.

    Returns:
      The restored state: the structure of `like`, leaves of its kinds (jax arrays, numpy arrays,
      Python numbers).

    Raises:
      CheckpointMismatch: the checkpoint's leaves differ from `like`'s (path, shape or dtype);
        the message names the leaf, both values and the setting that usually explains it.
      CheckpointDamaged: the file is truncated or corrupted, or its data disagrees with its
        own header (a missing leaf, another shape or dtype); nothing is filled in or reshaped.
      ValueError: `path` is not an fnrec checkpoint, or one of a format version this fnrec does
        not read.
    """
    path = Path(path)
    expected = _flatten("like", like)
    templates = [x for _, x in expected]
    header, load = _open_orbax(path) if path.is_dir() else _open_npz(path)
    saved = _check_header(path, header)
    _check_leaves(path, saved, [_describe(name, x) for name, x in expected])
    values = [
        _as_like(_from_data(path, data, leaf), x)
        for data, leaf, x in zip(load(saved, templates), saved, templates, strict=True)
    ]
    return jax.tree.unflatten(jax.tree.structure(like), values)


# ----------------------------------------------------------------------------- leaves


def _flatten(name: str, tree: Any) -> list[tuple[str, Any]]:
    """The leaves of `tree` with their key paths (``.stats.return_queue``)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    leaves = []
    for key, leaf in flat:
        where = jax.tree_util.keystr(key) or "<root>"
        if isinstance(leaf, jax.core.Tracer):
            raise TypeError(
                f"`{name}` must hold concrete arrays (checkpoints are written on the host, "
                f"outside jit), got a tracer at {where}"
            )
        if not isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct, np.ndarray, np.generic)) and (
            isinstance(leaf, (str, bytes)) or not isinstance(leaf, (bool, int, float, complex))
        ):
            raise TypeError(
                f"`{name}` must be a pytree of arrays and numbers, got {type(leaf).__name__} at "
                f"{where}"
            )
        leaves.append((where, leaf))
    return leaves


def _is_key(dtype: Any) -> bool:
    return jnp.issubdtype(dtype, jax.dtypes.prng_key)


def _dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, (jax.Array, jax.ShapeDtypeStruct)) else np.asarray(x).dtype


def _describe(path: str, x: Any) -> _Leaf:
    dtype = _dtype(x)
    impl = str(jax.random.key_impl(x)) if _is_key(dtype) and isinstance(x, jax.Array) else None
    return _Leaf(path, tuple(int(d) for d in np.shape(x)), str(dtype), impl)


def _data(x: Any) -> Any:
    """What is written of a leaf: the array (a typed key's raw data), kept on its devices."""
    if isinstance(x, jax.Array):
        return jax.random.key_data(x) if _is_key(x.dtype) else x
    return np.asarray(x)


def _host(name: str, x: Any) -> np.ndarray:
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        raise ValueError(
            f"fnrec.checkpoint.save: leaf {name} is sharded over several processes; the npz "
            "format needs every shard here: use format='orbax'"
        )
    return np.asarray(jax.device_get(x))


def _from_data(path: Path, data: Any, leaf: _Leaf) -> Any:
    """A leaf as saved, checked against its header entry: raw bytes viewed as its dtype (only
    bfloat16, which numpy loads as void of the same size), keys rewrapped.

    Raises:
      CheckpointDamaged: the data is missing (for a non-empty leaf), or its shape or dtype is not
        the header's.
    """
    shape = leaf.shape if leaf.key_impl is None else (*leaf.shape, *_key_words(leaf.key_impl))
    dtype = np.dtype(np.uint32 if leaf.key_impl else jnp.dtype(leaf.dtype))
    if data is None:
        if math.prod(leaf.shape):
            raise CheckpointDamaged(
                f"fnrec.checkpoint.restore: {str(path)!r} is damaged: leaf {leaf.path} (shape "
                f"{leaf.shape}) is in its header but its data is missing"
            )
        data = np.zeros(shape, dtype)  # an empty leaf: described in the header only
    got_dtype = np.dtype(data.dtype)
    bfloat16_as_void = got_dtype.kind == "V" and got_dtype.itemsize == dtype.itemsize
    if isinstance(data, np.ndarray) and got_dtype != dtype and bfloat16_as_void:
        data, got_dtype = data.view(dtype), dtype
    if tuple(data.shape) != shape or got_dtype != dtype:
        raise CheckpointDamaged(
            f"fnrec.checkpoint.restore: {str(path)!r} is damaged: leaf {leaf.path} holds data of "
            f"shape {tuple(data.shape)} and dtype {got_dtype}, but its header says shape "
            f"{shape} and dtype {dtype}"
        )
    if leaf.key_impl is not None:
        return jax.random.wrap_key_data(jnp.asarray(data), impl=leaf.key_impl)
    return data


def _as_like(value: Any, like: Any) -> Any:
    """`value` as the kind of leaf `like` is: a jax array on its sharding, numpy, a number."""
    if isinstance(like, (jax.Array, jax.ShapeDtypeStruct)):
        sharding = getattr(like, "sharding", None)
        if isinstance(value, jax.Array) and (sharding is None or value.sharding == sharding):
            return value
        return jax.device_put(value, sharding) if sharding is not None else jnp.asarray(value)
    value = np.asarray(jax.device_get(value))
    if isinstance(like, np.ndarray):
        return value
    if isinstance(like, np.generic):
        return value[()]
    return type(like)(value.item())


# ----------------------------------------------------------------------------- checks


def _check_header(path: Path, header: Any) -> list[_Leaf]:
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(f"fnrec.checkpoint.restore: {str(path)!r} is not an fnrec checkpoint")
    version = header.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"fnrec.checkpoint.restore: {str(path)!r} has format version {version!r}; this fnrec "
            f"reads version {FORMAT_VERSION} (a checkpoint from another fnrec release?)"
        )
    try:
        leaves = [
            _Leaf(str(d["path"]), tuple(int(n) for n in d["shape"]), str(d["dtype"]),
                  d.get("key_impl"))
            for d in header["leaves"]
        ]  # fmt: skip
        for leaf in leaves:  # a typed key's dtype (key<fry>) is checked by its key_impl
            if leaf.key_impl is None:
                np.dtype(jnp.dtype(leaf.dtype))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointDamaged(
            f"fnrec.checkpoint.restore: {str(path)!r} is damaged: its header does not describe "
            f"its leaves ({type(error).__name__}: {error})"
        ) from None
    return leaves


def _some(paths: list[str], limit: int = 6) -> str:
    if not paths:
        return "none"
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def _check_leaves(path: Path, saved: list[_Leaf], expected: list[_Leaf]) -> None:
    """Raises CheckpointMismatch at the first leaf that differs from the template."""
    saved_paths, expected_paths = [x.path for x in saved], [x.path for x in expected]
    if saved_paths != expected_paths:
        missing = [p for p in expected_paths if p not in saved_paths]
        extra = [p for p in saved_paths if p not in expected_paths]
        raise CheckpointMismatch(
            f"fnrec.checkpoint.restore: the structure of {str(path)!r} differs from `like`: "
            f"leaves `like` has that the checkpoint lacks: {_some(missing)}; leaves the "
            f"checkpoint has that `like` lacks: {_some(extra)}"
            + ("" if missing or extra else " (the same leaves in another order)")
            + ". Restore into a state made the same way (the same parts: capture, history, ...)"
        )
    for got, want in zip(saved, expected, strict=True):
        if (got.shape, got.dtype) != (want.shape, want.dtype):
            names = [part.strip(".[]'\"") for part in got.path.replace("[", ".[").split(".")]
            setting = next((_SETTINGS[n] for n in reversed(names) if n in _SETTINGS), None)
            hint = f" (here likely {setting})" if setting else ""
            raise CheckpointMismatch(
                f"fnrec.checkpoint.restore: leaf {got.path} of {str(path)!r} has shape "
                f"{got.shape} and dtype {got.dtype}, `like` expects shape {want.shape} and dtype "
                f"{want.dtype}. A checkpoint made with other settings{hint} is not reshaped: "
                "restore it into a state made with the settings it was saved with"
            )


# ----------------------------------------------------------------------------- formats


# What a format's reader gives: the header, and a loader of the leaves once they are checked.
_Loader = Callable[[list[_Leaf], list[Any]], list[Any]]


# Reading a damaged npz can raise almost anything (zipfile, zlib, numpy's header parser, json):
# every exception there means the file cannot be read whole.
_DAMAGED = Exception


def _open_npz(path: Path) -> tuple[Any, _Loader]:
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except _DAMAGED as error:
        raise CheckpointDamaged(
            f"fnrec.checkpoint.restore: cannot read {str(path)!r} as an npz checkpoint (damaged "
            f"or truncated?): {type(error).__name__}: {error}"
        ) from None
    with archive:
        if _HEADER not in archive.files:
            raise ValueError(f"fnrec.checkpoint.restore: {str(path)!r} is not an fnrec checkpoint")
        try:
            header = json.loads(str(archive[_HEADER]))
            arrays = {name: archive[name] for name in archive.files if name != _HEADER}
        except _DAMAGED as error:
            raise CheckpointDamaged(
                f"fnrec.checkpoint.restore: {str(path)!r} is damaged or truncated: its contents "
                f"cannot be read ({type(error).__name__}: {error})"
            ) from None

    def load(saved: list[_Leaf], templates: list[Any]) -> list[Any]:
        return [arrays.get(f"leaf_{i}") for i in range(len(saved))]

    return header, load


def _open_orbax(path: Path) -> tuple[Any, _Loader]:
    ocp = _orbax()
    path = path.absolute()
    with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as checkpointer:
        try:
            header = checkpointer.restore(
                path, ocp.args.Composite(**{_HEADER: ocp.args.JsonRestore()})
            )[_HEADER]
        except (FileNotFoundError, KeyError, ValueError) as error:
            raise ValueError(
                f"fnrec.checkpoint.restore: {str(path)!r} is not an fnrec checkpoint: {error}"
            ) from error

    def load(saved: list[_Leaf], templates: list[Any]) -> list[Any]:
        targets = {
            f"leaf_{i}": _target(leaf, x)
            for i, (leaf, x) in enumerate(zip(saved, templates, strict=True))
            if math.prod(leaf.shape)
        }
        with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as checkpointer:
            arrays = checkpointer.restore(
                path, ocp.args.Composite(arrays=ocp.args.StandardRestore(targets))
            )["arrays"]
        return [arrays.get(f"leaf_{i}") for i in range(len(saved))]

    return header, load


def _key_words(impl: str) -> tuple[int, ...]:
    """The trailing shape of one key's raw data (``(2,)`` for threefry)."""
    return jax.random.key_data(jax.random.key(0, impl=impl)).shape


def _target(leaf: _Leaf, like: Any) -> Any:
    """What orbax restores a leaf as: numpy, or a jax array on the template's sharding."""
    if leaf.key_impl is not None:
        words = _key_words(leaf.key_impl)
        data = jax.random.key_data(like) if isinstance(like, jax.Array) else None
        sharding = None if data is None else data.sharding
        return jax.ShapeDtypeStruct((*leaf.shape, *words), jnp.uint32, sharding=sharding)
    dtype = jnp.dtype(leaf.dtype)
    if isinstance(like, (jax.Array, jax.ShapeDtypeStruct)):
        return jax.ShapeDtypeStruct(leaf.shape, dtype, sharding=getattr(like, "sharding", None))
    return np.zeros(leaf.shape, dtype)


def _orbax() -> Any:
    return require("orbax.checkpoint", "fnrec.checkpoint with format='orbax'")
