"""Build the Lambda deployment zip from the package's wheel, byte for byte reproducibly.

Usage: python lambda_src/build_zip.py OUTPUT.zip

The wheel (built by PyPI `build`) decides which files belong to the package; this script lays
exactly those files into a zip that Lambda imports as `ecr_token_rotator.handler`. Two builds of
the same sources give the same sha256 on any machine: entries are sorted, every timestamp and
permission is fixed, and entries are stored uncompressed, because deflate output differs between
zlib implementations (zlib-ng, used by several Linux distributions, compresses differently).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "ecr_token_rotator"
SOURCE_DIR = Path(__file__).resolve().parent
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
REGULAR_FILE_0644 = 0o100644 << 16


def build_wheel(out_dir: Path) -> Path:
    """Build the wheel with `python -m build` and return its path."""
    subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out_dir),
            str(SOURCE_DIR),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {out_dir}, found {len(wheels)}")
    return wheels[0]


def package_members(wheel: zipfile.ZipFile) -> list[str]:
    """The wheel's files of the package itself (no metadata, no bytecode), sorted."""
    members = [
        name
        for name in wheel.namelist()
        if name.startswith(f"{PACKAGE}/")
        and not name.endswith("/")
        and "__pycache__" not in name
        and not name.endswith((".pyc", ".pyo"))
    ]
    if f"{PACKAGE}/handler.py" not in members:
        raise SystemExit(f"the wheel has no {PACKAGE}/handler.py; is the package layout broken?")
    return sorted(members)


def write_reproducible_zip(wheel_path: Path, output: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel, zipfile.ZipFile(output, "w") as out:
        for name in package_members(wheel):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = REGULAR_FILE_0644
            info.create_system = 3  # Unix, so the permission bits above are honoured
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, wheel.read(name))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    output = Path(argv[0]).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        partial = output.with_suffix(".zip.partial")
        write_reproducible_zip(wheel, partial)
        partial.replace(output)  # never leave a half-written zip at the committed path
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
