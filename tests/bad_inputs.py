"""Hypothesis strategies of bad inputs, and the check that an error is a clear one.

Shared by the property tests that drive fnrec's public functions with generated bad inputs
(tests/test_bad_inputs.py, tests/adapters/test_adapter_bad_inputs.py,
tests/host/test_host_bad_inputs.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N, B = 3, 4
DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.uint64, np.float16, np.float32,
          np.float64, ml_dtypes.bfloat16, np.complex64]  # fmt: skip
SHAPES = [(), (N,), (1,), (N + 1,), (N, 1), (2, N), (0,)]
INTERNAL = ("broadcast_in_dim", "Traced<", "ShapedArray", "jaxlib", "XlaRuntimeError",
            "iteration over a 0-d", "object has no attribute", "unsupported operand")  # fmt: skip
# CI runs a fixed set of examples (derandomized: no flaky runs); FNREC_BAD_INPUT_EXAMPLES=N
# explores N fresh random ones per test.
_EXPLORE = int(os.environ.get("FNREC_BAD_INPUT_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_EXPLORE or 100,
    derandomize=not _EXPLORE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(st.sampled_from(SHAPES))
    if dtype == ml_dtypes.bfloat16:
        values = draw(hnp.arrays(np.float32, shape, elements=st.floats(-1e3, 1e3, width=32)))
        return values.astype(dtype)
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=min(64, dtype.itemsize * 8))
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=10, width=64)
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.integers(int(info.min), int(info.max))
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def values(draw: st.DrawFn) -> object:
    """Anything a user might pass where per-env numbers are expected."""
    kind = draw(st.sampled_from(["array", "jax", "python", "list", "junk"]))
    if kind == "array":
        return arrays(draw)
    if kind == "jax":
        array = arrays(draw)
        return None if array.dtype == ml_dtypes.bfloat16 and array.size == 0 else jnp.asarray(array)
    if kind == "python":
        return draw(st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                              st.complex_numbers(max_magnitude=10)))  # fmt: skip
    if kind == "list":
        size = draw(st.sampled_from([N, N + 1, 1]))
        return draw(st.lists(st.one_of(st.integers(-(2**40), 2**40), st.floats(), st.booleans()),
                             min_size=size, max_size=size))  # fmt: skip
    return draw(st.sampled_from([None, "1.0", b"1", {"r": 1.0}, (1.0, None), object()]))


def accepted_numbers(value: object) -> np.ndarray | None:
    """What fnrec must read `value` as (float64 numbers of shape [N]), or None if it must raise."""
    if not array_like(value):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if array.dtype == object:
        if not all(isinstance(x, (bool, int, float)) for x in array.reshape(-1)):
            return None
        array = array.astype(np.float64)
    if array.dtype.kind not in "biuf" and array.dtype != ml_dtypes.bfloat16:
        return None
    if array.shape not in ((), (N,)):
        return None
    return np.broadcast_to(array.astype(np.float64), (N,))


def numeric_array(value: object) -> np.ndarray | None:
    """`value` as numpy with a bool/int/float dtype and shape (N,), or None if it is not one."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    real = array.dtype.kind in "biuf" or array.dtype == ml_dtypes.bfloat16
    return array if real and array.shape == (N,) else None


def traced(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` as ``jax.jit`` sees it, run without compiling a program per example.

    ``fn`` is traced as jit traces it (fnrec's checks see tracers, and the generated value closed
    over as given), then its jaxpr runs op by op. A closed-over value is a constant of the
    program, so ``jax.jit(fn)()`` would compile anew for every generated example; op by op, the
    examples of one shape family share their compiled ops.
    """

    def run(*args: Any) -> Any:
        closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        out = jax.extend.core.jaxpr_as_fun(closed)(*jax.tree.leaves(args))
        return jax.tree.unflatten(jax.tree.structure(shape), out)

    return run


def array_like(value: object) -> bool:
    """Whether jax.jit takes `value` as an argument (anything else JAX refuses at the boundary)."""
    return isinstance(value, (bool, int, float, complex, list, np.ndarray, jax.Array))


# What the generated inputs gave, for scripts/reliability_report.py (tests/conftest.py writes
# it to the file named by FNREC_TALLY at the end of the session).
TALLY: Counter[str] = Counter()


def assert_clear(error: BaseException, name: str) -> None:
    """Asserts that `error` is a TypeError/ValueError naming `name`, with no internal text."""
    assert type(error) in (TypeError, ValueError), (type(error), error)
    message = str(error)
    assert f"`{name}`" in message, message
    assert not any(text in message for text in INTERNAL), message
    TALLY["clear error"] += 1


def correct() -> None:
    """Counts an accepted input whose result matched the reference (call after the checks)."""
    TALLY["correct result"] += 1
