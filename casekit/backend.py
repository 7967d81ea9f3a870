"""The ONE place in casekit with backend-specific code (TensorFlow or JAX).

Keras 3 runs the same model code on TensorFlow, JAX or PyTorch; the backend is chosen once per
process with ``KERAS_BACKEND`` (TensorFlow by default) before ``import keras``. Almost all of
casekit uses ``keras`` / ``keras.ops`` and never needs to know which backend runs. Three jobs
cannot be written backend-neutrally, and they live here so a student can see the difference:

* :func:`input_gradients` – the gradient of a score with respect to a tensor (Grad-CAM needs
  it): TensorFlow records operations on a ``GradientTape``; JAX transforms the function
  with ``jax.grad``.
* :func:`compiled` – running a plain Python function of Keras layers fast: JAX compiles it
  with ``jax.jit`` (op-by-op "eager" JAX is very slow), TensorFlow runs it eagerly.
* :func:`gpu_compute_capability` – asking the framework which GPU it sees.

Example:
    >>> from casekit.backend import backend_name
    >>> backend_name() in {"tensorflow", "jax", "torch", "numpy", "openvino"}
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

SUPPORTED = ("tensorflow", "jax")


def backend_name() -> str:
    """Name of the Keras backend of this process, e.g. ``"tensorflow"``."""
    return keras.backend.backend()


def _require_supported() -> str:
    name = backend_name()
    if name not in SUPPORTED:
        raise NotImplementedError(
            f"casekit supports the Keras backends {SUPPORTED}, not {name!r}. "
            "Set KERAS_BACKEND=tensorflow (or jax) before importing keras."
        )
    return name


def input_gradients(
    fn: Callable[[Any], tuple[Any, Any]], x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of a scalar ``fn(x)[0]`` with respect to ``x``, plus ``fn(x)[1]``.

    ``fn`` takes a tensor and returns ``(score, aux)``: a scalar to differentiate and any extra
    output to hand back (Grad-CAM passes the predictions). Both results come back as NumPy.

    Example:
        >>> import numpy as np
        >>> from keras import ops
        >>> grad, aux = input_gradients(lambda t: (ops.sum(t * t), t), np.array([1.0, 2.0]))
        >>> grad.tolist()
        [2.0, 4.0]
    """
    if _require_supported() == "tensorflow":
        import tensorflow as tf

        t = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(t)  # t is not a variable: ask the tape to follow it
            score, aux = fn(t)
        grad = tape.gradient(score, t)
    else:
        import jax

        grad, aux = jax.grad(fn, has_aux=True)(jax.numpy.asarray(x))
    return keras.ops.convert_to_numpy(grad), keras.ops.convert_to_numpy(aux)


def compiled(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` compiled for repeated calls where that pays off (``jax.jit`` on JAX).

    On TensorFlow the function is returned unchanged: eager execution is already fast there,
    and tracing a ``tf.function`` costs more than it saves for a few calls.
    """
    if _require_supported() == "tensorflow":
        return fn
    import jax

    return jax.jit(fn)


def gpu_compute_capability() -> tuple[int, int] | None:
    """Compute capability ``(major, minor)`` of the first GPU the backend sees, else ``None``.

    A Colab T4 gives ``(7, 5)``, an A100 ``(8, 0)``; a CPU-only machine gives ``None``.
    """
    if _require_supported() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        capability = tf.config.experimental.get_device_details(gpus[0]).get(
            "compute_capability"
        )
        return tuple(int(v) for v in capability) if capability else None
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:  # JAX raises when no GPU platform is installed
        return None
    capability = getattr(gpus[0], "compute_capability", None)
    if not capability:
        return None
    major, _, minor = str(capability).partition(".")
    return int(major), int(minor or 0)
