import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def test_import_pystream_loads_neither_numpy_nor_numba() -> None:
    loaded = _modules_after("import pystream")
    assert "numpy" not in loaded and "numba" not in loaded


def test_streams_api_loads_numba_only_when_a_kernel_runs() -> None:
    loaded = _modules_after(
        "from pystream.streams import Stream, MemorySource, functions; import pystream.compute.grouping"
    )
    assert "numpy" in loaded
    assert "numba" not in loaded
