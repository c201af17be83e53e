"""purejaxrl's swap trained on gymnax 0.0.9: parameters bit-identical to LogWrapper's."""

from __future__ import annotations

from importlib.metadata import version

import pytest

gymnax = pytest.importorskip("gymnax")
from gymnax.wrappers.purerl import LogWrapper  # noqa: E402
from ppo_swap import assert_identical, trained_parameters  # noqa: E402


def test_ppo_with_statistics_and_capture_trains_exactly_as_with_log_wrapper():
    assert version("gymnax").startswith("0.0.")
    assert_identical(trained_parameters(gymnax, LogWrapper))
