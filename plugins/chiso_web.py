"""chiso's self-service pages inside Airflow's API server, under /chiso (wiring only: the
application is chiso.web). Airflow loads this folder as its plugins folder
(``AIRFLOW__CORE__PLUGINS_FOLDER``; docker-compose.yml and the image set it), so in
production units open ``<api server>/chiso/u/<token>``: set CHISO_WEB_BASE_URL to that
address's ``/chiso`` before ``chiso units links``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from chiso.web.app import create_app


class ChisoWebPlugin(AirflowPlugin):
    name = "chiso_web"
    fastapi_apps = [
        {"app": create_app(), "url_prefix": "/chiso", "name": "chiso: báo cáo của đơn vị"}
    ]
