# chiso's Airflow image for docker-compose.yml: Airflow 3 + dbt + Great Expectations +
# the chiso packages, all at the versions pinned in constraints.txt.
#
# The whole checkout is copied (what is not needed is listed in .dockerignore), so a package
# added to pyproject.toml is in the image without editing this file.
# tests/dags/test_image.py performs these steps without a Docker engine.
FROM python:3.11-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AIRFLOW_HOME=/opt/airflow \
    CHISO_DATA_DIR=/opt/chiso/data \
    CHISO_DBT_PROJECT_DIR=/opt/chiso/dbt_project \
    CHISO_TIMEZONE=Asia/Ho_Chi_Minh

WORKDIR /opt/chiso
COPY . .
RUN pip install -c constraints.txt ".[postgres,celery]" && pip check

RUN useradd --uid 50000 --create-home airflow \
    && mkdir -p "$AIRFLOW_HOME" "$CHISO_DATA_DIR" \
    && chown -R airflow "$AIRFLOW_HOME" "$CHISO_DATA_DIR" /opt/chiso/dbt_project
USER airflow
ENTRYPOINT ["airflow"]
CMD ["version"]
