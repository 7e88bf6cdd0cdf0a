"""Run one DAG with ``dag.test()`` in this process; used by test_dags.py in a subprocess.

usage: python tests/helpers/run_dag.py DAG_ID [JSON_CONF]
Prints one JSON line: the run's state and each task's state. Airflow must be configured
by the environment (AIRFLOW_HOME with a migrated SQLite database, the dags folder).
"""

import json
import sys
from pathlib import Path

from airflow import settings
from airflow.dag_processing.dagbag import BundleDagBag

dag_id = sys.argv[1]
conf = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
# as the DAG processor and the task runner load it: the folder on sys.path (chiso_common)
bag = BundleDagBag(collect_dags=True, bundle_path=Path(settings.DAGS_FOLDER))
if bag.import_errors:
    print(json.dumps({"import_errors": {str(k): v for k, v in bag.import_errors.items()}}))
    sys.exit(1)
run = bag.get_dag(dag_id).test(run_conf=conf)
tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
print("RESULT " + json.dumps({"state": str(run.state), "tasks": tasks}))
