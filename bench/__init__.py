"""Benchmarks of grafterr-pipeline, run by ``make bench`` or ``python -m bench [part ...]``.

Each part is a module with a ``main(argv) -> int``, registered by name in
:data:`bench.__main__.PARTS`. Parts may need the ``bench`` extra
(``pip install -e '.[bench]'``); the product itself never imports anything from here.
"""
