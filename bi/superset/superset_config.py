"""Superset's configuration for chiso's dashboards (SUPERSET_CONFIG_PATH points here).

Everything that differs between machines comes from the environment, which `chiso bi`
sets (chiso/bi.py) and docker-compose.yml's `superset` service sets the same way:

- SUPERSET_SECRET_KEY: signs sessions and encrypts stored database passwords; keep it
  (chiso bi: <data>/superset/secret.key, made once);
- SUPERSET_METADATA_URI: Superset's own database (chiso bi: SQLite in <data>/superset/;
  the compose file: its PostgreSQL).

No cache, Celery or Redis: no async queries, thumbnails or e-mailed reports.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]

# Vietnamese in the dashboards' titles and labels; the interface itself has no Vietnamese
# translation in Superset 6.1
BABEL_DEFAULT_LOCALE = "en"
# the published marts are read-only: nothing in SQL Lab may write
PREVENT_UNSAFE_DB_CONNECTIONS = True
ROW_LIMIT = 50000
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "ALERT_REPORTS": False}
