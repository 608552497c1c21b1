# The contentops image: Airflow 3.3.2 on Python 3.11 with this project installed as a provider.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root pyproject.toml README.md /opt/contentops/
COPY --chown=airflow:root plugins /opt/contentops/plugins
COPY --chown=airflow:root include /opt/contentops/include
RUN pip install --no-cache-dir "/opt/contentops[celery]" /opt/contentops/include "apache-airflow==3.3.2"

ENV CONTENTOPS_CONFIG_DIR=/opt/airflow/include/config \
    CONTENTOPS_HOME=/opt/airflow/var
