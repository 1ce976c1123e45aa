"""Packaging beyond pyproject.toml: the checkout's templates/ and data/ folders ship inside the
package, as peermatch/templates and peermatch/data, so that a non-editable install finds them
(peermatch/resources.py looks in the checkout first, then there)."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

# Only folders present: a build context may leave them out (the Dockerfile copies them later).
SHIPPED = {
    package: folder
    for package, folder in {"peermatch.templates": "templates", "peermatch.data": "data"}.items()
    if Path(folder).is_dir()
}


def _folders(package: str, root: str) -> list[str]:
    """``package`` and one package name per sub-folder of ``root`` (they hold data only)."""
    return [package] + [
        f"{package}.{'.'.join(p.relative_to(root).parts)}"
        for p in sorted(Path(root).rglob("*"))
        if p.is_dir() and "__pycache__" not in p.parts
    ]


setup(
    packages=[
        *find_namespace_packages(include=["peermatch", "peermatch.*"], exclude=["*.__pycache__"]),
        *(name for package, root in SHIPPED.items() for name in _folders(package, root)),
    ],
    package_dir=SHIPPED,
)
