"""This pipeline side by side with the tools a team would otherwise pick (issue #10).

``python -m bench peers`` starts one loopback sandbox per contender run, with the same seed,
clock, rate limit and latency, and runs three contenders over the same business dates:

1. this pipeline, ``grafterr-pipeline run`` in a subprocess (:mod:`bench.peers.contenders`);
2. a dlt pipeline over dlt's ``RESTClient`` into Parquet (:mod:`bench.peers.dlt_orders`);
3. an afternoon's ``requests`` loop with ``pandas.json_normalize``
   (:mod:`bench.peers.naive_orders`).

It measures wall time, requests at the sandbox, 429s and peak memory, checks each contender's
Parquet against the sandbox's ground truth (:mod:`bench.peers.correctness`), and writes
``bench/results.md`` (:mod:`bench.peers.report`).
"""
