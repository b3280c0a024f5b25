"""Dagster wiring: composes the library modules into assets, a job and a schedule.

Only this folder and :mod:`grafterr_pipeline.definitions` import Dagster.
"""
