"""The bottom layer: what every app may use and that knows no app.

`metrics` (the process's Prometheus registry), `events` (domain events announced after
commit), `jobs` (enqueue a Celery task by name, after commit), `periodic` (the periodic
job declaration), `websocket` (consumer helpers). Nothing here imports another app or
`wedsync_ops`; the composition root (`wedsync_ops`) wires the Celery app in.
"""
