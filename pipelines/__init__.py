"""govreports processing library: bytes in, report records and lake partitions out.

Stages, one module each: :mod:`~pipelines.decode` → :mod:`~pipelines.extract` →
:mod:`~pipelines.metadata` → :mod:`~pipelines.process` (orchestration) → :mod:`~pipelines.load`
(partition writes). :mod:`~pipelines.store` and :mod:`~pipelines.lake` own storage and layout.
This package imports neither ``crawlers`` nor ``dags``.
"""
