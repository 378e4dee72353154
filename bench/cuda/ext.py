"""Builds the Python binding of siri's CUDA code (bench/cuda/siri_cuda_ext.cpp + native/src/cuda/kernels.cu +
native/src/loss.cc) with torch.utils.cpp_extension, for the device machine (PyTorch, nvcc, no Node).
Hopper code (sm_90a) plus compute_90 PTX, as the addon builds it. cuBLAS is found in CUDA_HOME or in the
pip-installed NVIDIA wheels that CUDA builds of torch depend on."""

from __future__ import annotations

import glob
import os
import pathlib
import site
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "bench/cuda/siri_cuda_ext.cpp",
    ROOT / "native/src/cuda/kernels.cu",
    ROOT / "native/src/loss.cc",
]
GENCODE = ["-gencode=arch=compute_90a,code=sm_90a", "-gencode=arch=compute_90,code=compute_90"]


def _cublas_locations() -> tuple[list[str], list[str]]:
    """Include folders holding cublas_v2.h and library files libcublas.so* (first match wins)."""
    from torch.utils.cpp_extension import CUDA_HOME

    roots = [CUDA_HOME or "/usr/local/cuda"]
    for sp in site.getsitepackages() + [site.getusersitepackages()]:
        roots += glob.glob(os.path.join(sp, "nvidia", "cu*")) + glob.glob(os.path.join(sp, "nvidia", "cublas"))
    includes, libraries = [], []
    for root in roots:
        if not includes and os.path.exists(os.path.join(root, "include", "cublas_v2.h")):
            includes.append(os.path.join(root, "include"))
        if not libraries:
            for sub in ("lib64", "lib", "targets/x86_64-linux/lib"):
                found = sorted(glob.glob(os.path.join(root, sub, "libcublas.so*")))
                if found:
                    libraries.append(found[0])
                    break
    return includes, libraries


def load(verbose: bool = False):
    """Returns (module, build seconds)."""
    from torch.utils.cpp_extension import load as load_extension

    includes, libraries = _cublas_locations()
    if not libraries:
        raise RuntimeError("libcublas not found in CUDA_HOME or the nvidia pip wheels")
    ldflags = []
    for lib in libraries:
        ldflags += [lib, f"-Wl,-rpath,{os.path.dirname(lib)}"]
    build_dir = os.environ.get("SIRI_CUDA_EXT_BUILD", "/tmp/siri_cuda_ext")
    os.makedirs(build_dir, exist_ok=True)
    start = time.perf_counter()
    module = load_extension(
        name="siri_cuda_ext",
        sources=[str(s) for s in SOURCES],
        extra_include_paths=[str(ROOT / "native/src"), str(ROOT / "native/src/cuda"), *includes],
        extra_cflags=["-O3", "-std=c++17"],
        extra_cuda_cflags=["-O3", "-std=c++17", "-lineinfo", *GENCODE],
        extra_ldflags=ldflags,
        build_directory=build_dir,
        verbose=verbose,
    )
    return module, time.perf_counter() - start


if __name__ == "__main__":
    mod, seconds = load(verbose="-v" in sys.argv)
    print(f"built siri_cuda_ext in {seconds:.1f} s; CUDA devices: {mod.device_count()}")
