"""Installs Tipline: the native core ``tipline_core`` (built with CMake) and
the Tryton module ``trytond.modules.tipline`` (from plugin/tipline).

System requirements: cmake >= 3.18, a C++17 compiler, OpenSSL 3 headers.
Use a non-editable ``pip install .``; trytond does not find modules through
PEP 660 editable finders.
"""

import os
import shutil
import subprocess
import sys

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.join("plugin", "tipline")


class CMakeExtension(Extension):
    """An extension built by CMake from ``sourcedir`` (no sources here)."""

    def __init__(self, name, sourcedir=""):
        super().__init__(name, sources=[])
        self.sourcedir = os.path.abspath(sourcedir)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not isinstance(ext, CMakeExtension):
            return super().build_extension(ext)
        if shutil.which("cmake") is None:
            raise RuntimeError(
                "cmake is required to build tipline_core "
                "(apt-get install cmake g++ libssl-dev)")
        extdir = os.path.abspath(
            os.path.dirname(self.get_ext_fullpath(ext.name)))
        cfg = "Debug" if self.debug else "Release"
        cmake_args = [
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DCMAKE_BUILD_TYPE={cfg}",
            f"-DTIPLINE_PYTHON_OUTPUT_DIR={extdir}",
            "-DTIPLINE_BUILD_TESTS=OFF",
            "-DTIPLINE_BUILD_PYTHON=ON",
        ]
        try:
            import pybind11
        except ImportError:
            pass  # CMake falls back to a system pybind11
        else:
            cmake_args.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
        build_args = ["--config", cfg]
        if "CMAKE_BUILD_PARALLEL_LEVEL" not in os.environ:
            build_args.append(f"-j{os.cpu_count() or 2}")

        build_temp = os.path.join(self.build_temp, ext.name)
        os.makedirs(build_temp, exist_ok=True)
        subprocess.run(["cmake", "-S", ext.sourcedir, "-B", build_temp]
                       + cmake_args, check=True)
        subprocess.run(["cmake", "--build", build_temp, "--target", "_native"]
                       + build_args, check=True)


def tryton_packages():
    """trytond.modules.tipline and its subpackages (tests, ...)."""
    packages = ["trytond.modules.tipline"]
    if os.path.isdir(os.path.join(HERE, PLUGIN_DIR)):
        packages += ["trytond.modules.tipline." + name
                     for name in find_packages(os.path.join(HERE, PLUGIN_DIR))]
    return packages


def tryton_package_data():
    data = ["*.cfg", "*.xml", "view/*.xml", "locale/*.po", "icons/*.svg",
            "tests/*.rst"]
    # Templates may nest; list their files explicitly.
    templates = os.path.join(HERE, PLUGIN_DIR, "templates")
    for root, _dirs, files in os.walk(templates):
        for name in files:
            path = os.path.join(root, name)
            data.append(os.path.relpath(path, os.path.join(HERE, PLUGIN_DIR)))
    return data


setup(
    name="trytond_tipline",
    version="0.1.0",
    description="Tipline: abuse reporting for Tryton, with a native core",
    python_requires=">=3.10",
    packages=["tipline_core"] + tryton_packages(),
    package_dir={
        "tipline_core": "python/tipline_core",
        "trytond.modules.tipline": PLUGIN_DIR,
    },
    package_data={
        "tipline_core": ["py.typed", "*.pyi"],
        "trytond.modules.tipline": tryton_package_data(),
    },
    ext_modules=[CMakeExtension("tipline_core._native", sourcedir=HERE)],
    cmdclass={"build_ext": CMakeBuild},
    install_requires=[
        "trytond>=8.0,<8.1",
        "trytond-party>=8.0,<8.1",
    ],
    extras_require={
        "opportunity": [
            "trytond-sale-opportunity>=8.0,<8.1",
            "trytond-company>=8.0,<8.1",
        ],
        # trytond 8.0 talks to PostgreSQL through psycopg 3.
        "postgresql": ["psycopg[binary,pool]>=3.1"],
        # The scale-out shape: N worker processes serving
        # trytond.application:app (manifests/gunicorn.conf.py).
        "server": ["gunicorn>=22"],
    },
    entry_points={
        "trytond.modules": ["tipline = trytond.modules.tipline"],
        "console_scripts": [
            "tipline-keys = trytond.modules.tipline.keys_cli:main",
            "tipline-audit = trytond.modules.tipline.audit_cli:main",
            "tipline-worker = trytond.modules.tipline.worker:main",
        ],
    },
    zip_safe=False,
)
