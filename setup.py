"""Packaging for grafterr_pipeline; ``pip install -e '.[dev]'`` is what ``make`` runs."""

from setuptools import find_packages, setup

POSTGRES = ["dagster-postgres>=0.29,<0.30", "psycopg2-binary>=2.9,<3"]

setup(
    name="grafterr-pipeline",
    version="0.1.0",
    description="Grafterr orders into partitioned Parquet and DuckDB, orchestrated by Dagster",
    python_requires=">=3.11",
    packages=find_packages(include=["grafterr_pipeline", "grafterr_pipeline.*"]),
    package_data={"grafterr_pipeline": ["py.typed"]},
    install_requires=[
        "dagster>=1.13,<1.14",
        "dagster-webserver>=1.13,<1.14",
        "requests>=2.32,<3",
        "pandas>=2.2,<4",
        "pyarrow>=18",
        "duckdb>=1.3,<3",
        "starlette>=0.40",
        "uvicorn>=0.30",
        "tzdata",
    ],
    extras_require={
        # A production instance and a shared webhook inbox in PostgreSQL (docs/deployment.md).
        # dagster-postgres follows dagster's own release: 0.29.x ships beside dagster 1.13.x.
        "postgres": POSTGRES,
        "dev": [
            *POSTGRES,
            "pytest>=8",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "ruff>=0.6",
            # Drives Debian's Chromium for the Dagster UI test; no browser download needed.
            "playwright>=1.40",
        ],
        # The peers `make bench` measures the product against (bench/peers); never a
        # dependency of the product itself.
        "bench": [
            "dlt[parquet]>=1.31,<2",
        ],
    },
    entry_points={"console_scripts": ["grafterr-pipeline=grafterr_pipeline.cli:main"]},
)
