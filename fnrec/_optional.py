"""Optional dependencies: one clear line naming the extra to install, never a raw traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

# module -> the fnrec extra that installs it
EXTRAS: dict[str, str] = {
    "matplotlib": "plots",
    "pygame": "gymnasium-envs",
    "flax": "gymnasium-envs",
    "gymnax": "gymnax",
    "brax": "brax",
    "mujoco_playground": "playground",
    "tensorboardX": "tensorboard",
    "wandb": "wandb",
    "mlflow": "mlflow",
    "av": "pyav",
    "orbax": "orbax",
    "jumanji": "jumanji",
    "navix": "navix",
    "xminigrid": "xminigrid",
    "craftax": "craftax",
}


class MissingDependency(ModuleNotFoundError):
    """An optional dependency is not installed; the message says which extra brings it."""


def require(module: str, purpose: str) -> ModuleType:
    """Imports `module`, or raises MissingDependency naming the extra to install.

    Args:
      module: the module's import name.
      purpose: what needs it, for the message ("learning-curve plots").

    Returns:
      The module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        extra = EXTRAS.get(module.split(".")[0])
        hint = f"pip install 'fnrec[{extra}]'" if extra else f"pip install {module.split('.')[0]}"
        raise MissingDependency(f"{purpose}: {module} is not installed; run {hint}") from error
