"""chiso, the application: the ``chiso`` CLI (a module per command group), the pipeline
(ingest -> build -> gate -> publish over a warehouse backend) and the functions Airflow
tasks call. It sits above ``ingest`` and ``expectations`` and imports both; they import
only ``warehouse``, the foundation."""
